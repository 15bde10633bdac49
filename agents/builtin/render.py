"""Render the candidate module: header comment, kernels, and `ModelNew` with its host wrapper.

Launch configurations are dicts: upper-case keys become module constants (a multi-stage
module's under each stage's prefix: lowered.py) and `num_warps`/`num_stages` go to the
launch. Pointwise and matmul keys (BLOCK_*, GROUP_M) are
passed as `tl.constexpr`. Reduction keys steer the host code, which picks each kernel's
BLOCK_M x BLOCK_R block (see search.py for what each key means).
"""

from __future__ import annotations

import re
from typing import Any

import torch

from agents.builtin.adaptive_pooling import HELPER as ADAPTIVE_HELPER
from agents.builtin.adaptive_pooling import HELPER_SOURCE as ADAPTIVE_HELPER_SOURCE
from agents.builtin.conv_writer import conv_launch_lines, conv_writers
from agents.builtin.kernel_writer import INDENT, KernelWriter
from agents.builtin.matmul_launch import matmul_launch_lines
from agents.builtin.matmul_writer import MatmulWriter
from agents.builtin.pointwise_writer import PointwiseWriter, row_tile_launch_lines
from agents.builtin.reduction_schedule import splittable, tiled
from agents.builtin.reduction_writer import ReductionWriter
from agents.builtin.reference import Traced
from agents.builtin.values import FULL, Plan

MULTIPLY_HELPER = """@triton.jit
def _multiply(a, b):
    return a * b"""
LAUNCH_KEYS = ("num_warps", "num_stages")
PER_WARP = 512  # persistent reductions: a warp per 512 elements held (16 fp32 a thread)
# rows along the innermost dim: at least 16 to a program, a whole 32-byte sector in fp16
NARROWEST_TILE = 16
# the looped kernel over rows whose length is not a multiple of 4 (rows off 16-byte
# boundaries, no vector loads): on an H200, l2-normalising 32768 rows of 65535 floats runs
# at 60% of copy bandwidth in 8192-element steps with 16 warps, 32% with the default 1024/4
MISALIGNED_STEP = 8192
MISALIGNED_WARPS = 16
STRATEGY = {
    "pointwise": "one program per BLOCK_SIZE elements, one pass over memory",
    "reduction": "BLOCK_M rows per program, held in registers or walked in steps",
    "matmul": "one program per BLOCK_M x BLOCK_N output tile, fp32 accumulator",
    "conv": "an implicit GEMM per group over BLOCK_M pixels x BLOCK_N channels, or direct",
}
ROW_TILES = "one program per BLOCK_SIZE elements as rows by a block of the last dim, one pass"


def kernel_name(op_name: str) -> str:
    base = re.sub(r"[^0-9a-zA-Z]+", "_", op_name).strip("_").lower() or "fused"
    if base[0].isdigit():
        base = "op_" + base
    return f"{base}_kernel"


def describe(plan: Plan) -> str:
    """What the kernel fuses, as a chain of aten ops."""
    return " -> ".join(plan.fused) or "copy"


def _constexprs(config: dict[str, Any]) -> list[str]:
    """The config keys that are kernel constexprs (pointwise and matmul: the upper-case ones)."""
    return [k for k in config if k.isupper()]


def _init_lines(traced: Traced) -> list[str]:
    """The reference's own __init__ body, or else its attributes, parameters and buffers
    rebuilt with the traced shapes (the verifier loads their values from its state_dict)."""
    if traced.init_body is not None:
        return traced.init_body + _attribute_buffers(traced)
    lines = ["super().__init__()"]
    lines += [f"self.{attr} = {expr}" for attr, expr in traced.init_assignments]
    made: set[str] = set()
    for path, shape, dtype, kind in traced.params:
        parts = path.split(".")
        for i in range(1, len(parts)):
            holder = ".".join(parts[:i])
            if holder not in made:
                made.add(holder)
                lines.append(f"self.{holder} = nn.Module()")
        owner, _ = _owner(path)
        empty = f"torch.empty({shape!r}, dtype={dtype})"
        if kind == "param":
            lines.append(f"{owner}.{parts[-1]} = nn.Parameter({empty})")
        else:
            lines.append(f'{owner}.register_buffer("{parts[-1]}", {empty})')
    return lines


def _owner(path: str) -> tuple[str, str]:
    """(`self.a.b`, `c`) for the dotted path `a.b.c`."""
    parts = path.split(".")
    return "self" + "".join(f".{p}" for p in parts[:-1]), parts[-1]


def _attribute_buffers(traced: Traced) -> list[str]:
    """Tensor attributes the copied body made, turned into non-persistent buffers so that
    `ModelNew.to(device)` moves them with the module, as the kernel needs."""
    lines = []
    for path, _, _, kind in traced.params:
        if kind == "attribute":
            owner, name = _owner(path)
            lines += [
                f"attribute = {owner}.{name}",
                f"del {owner}.{name}",
                f'{owner}.register_buffer("{name}", attribute, persistent=False)',
            ]
    return lines


def _dtype_expr(plan: Plan, traced: Traced, dtype: torch.dtype) -> str:
    """The output dtype, taken from an input of that dtype when there is one."""
    ordered = sorted(plan.sources, key=lambda s: s.host not in traced.forward_args)
    for s in ordered:
        if s.dtype == dtype:
            return f"{s.name}.dtype"
    return str(dtype)


def _launch(
    writer: KernelWriter, blocks: dict[str, str], options: dict[str, Any], grid: str = "grid"
) -> str:
    args = [host for _, host in writer.params()]
    args += [f"{k}={v}" for k, v in blocks.items()]
    args += [f"{k}={v}" for k, v in options.items()]
    return f"{writer.name}[{grid}]({', '.join(args)})"


def _indented(lines: list[str]) -> list[str]:
    return [INDENT + line for line in lines]


def _persistent_lines(writer: KernelWriter, narrowest: int, config: dict[str, Any]) -> list[str]:
    """Whole rows in registers, BLOCK_M of them to a program: a pack of short rows (about
    PACK_BLOCK elements) or, for rows along the innermost dim, at least `narrowest`."""
    registers = {"BLOCK_M": "block_m", "BLOCK_R": "block_r"}
    return [
        "# whole rows in registers: read once, written once; short rows share a program",
        f"# (about PACK_BLOCK elements), with a warp per {PER_WARP} elements",
        f"block_m = min(max(PACK_BLOCK // block_r, {narrowest}), triton.next_power_of_2(n_rows))",
        f"warps = min(max(block_m * block_r // {PER_WARP}, 1), {config['persistent_warps']})",
        "grid = (triton.cdiv(n_rows, block_m),)",
        _launch(writer, registers, {"num_warps": "warps"}),
    ]


def _split_lines(
    plan: Plan, writers: list[KernelWriter], tiles: bool, options: dict[str, Any], device: str
) -> list[str]:
    """Few programs: R is cut into `split` chunks reduced by separate programs, then the
    combine kernel merges the partial results (and stores each chunk's full-size outputs)."""
    partial, combine = writers
    rows, step = ("TILE_K", "TILE_R") if tiles else ("1", "BLOCK_R")
    fulls = any(o.value.level == FULL for o in plan.outputs)
    lines = [
        "# few programs: cut R into chunks reduced apart (about SPLIT_PROGRAMS programs),",
        "# then merge the partial results" + (" and store chunk by chunk" if fulls else ""),
        f"split = min(triton.cdiv(SPLIT_PROGRAMS, programs), triton.cdiv(R, {step}))",
        f"chunk = triton.cdiv(triton.cdiv(R, split), {step}) * {step}",
        "split = triton.cdiv(R, chunk)",
    ]
    lines += [
        f"part_{r.name} = torch.empty((split, n_rows), device={device}, dtype=torch.float32)"
        for r in plan.reductions
    ]
    lines.append(_launch(partial, {"BLOCK_M": rows, "BLOCK_R": step}, options, "(programs, split)"))
    merge = {"BLOCK_M": rows, "BLOCK_S": "triton.next_power_of_2(split)"}
    merge.update({"BLOCK_R": step} if fulls else {})
    lines.append(_launch(combine, merge, options, "(programs, split)" if fulls else "(programs,)"))
    return lines


def _looped_lines(writer: KernelWriter, tiles: bool, options: dict[str, Any]) -> list[str]:
    """R walked in steps, one loop per dependent pass."""
    if not tiles:
        steps = {"BLOCK_M": "1", "BLOCK_R": "step"}
        return [
            "# walk each row in BLOCK_R steps, a loop per dependent pass; long rows that start",
            "# off a 16-byte boundary load one element per lane: wider steps, more warps",
            f"step, warps = BLOCK_R, {options['num_warps']}",
            f"if R % 4 and R > {MISALIGNED_STEP}:",
            f"{INDENT}step, warps = max(BLOCK_R, {MISALIGNED_STEP}), {MISALIGNED_WARPS}",
            _launch(writer, steps, {"num_warps": "warps"}, "(n_rows,)"),
        ]
    steps = {"BLOCK_M": "block_m", "BLOCK_R": "TILE_K * TILE_R // block_m"}
    return [
        "# walk R in tiles, a loop per dependent pass; with few tiles (a scan, an argmax...)",
        f"# narrower, longer ones of the same area, down to {NARROWEST_TILE} rows",
        "block_m = TILE_K",
        f"while block_m > {NARROWEST_TILE} and triton.cdiv(n_rows, block_m) < SPLIT_PROGRAMS:",
        f"{INDENT}block_m //= 2",
        _launch(writer, steps, options, "(triton.cdiv(n_rows, block_m),)"),
    ]


def _reduction_lines(
    plan: Plan, config: dict[str, Any], writers: list[KernelWriter], device: str
) -> list[str]:
    """Rows that fit go to the persistent kernel, BLOCK_M to a program; few programs' worth
    of single-pass work is split over R; the rest goes to the looped kernel."""
    tiles = tiled(plan)
    kept = [plan.f_sizes[d] for d in range(plan.rank) if d not in plan.reduced]
    reduced = [plan.f_sizes[d] for d in plan.reduced]
    persistent, looped, *split = writers
    options = {"num_warps": config["num_warps"]}
    lines = [f"n_rows = {' * '.join(kept) or '1'}", f"R = {' * '.join(reduced)}"]
    if tiles:
        lines.append("# rows run along the innermost dim: programs take neighbouring rows")
    fits = f"{NARROWEST_TILE} * block_r" if tiles else "block_r"
    lines += ["block_r = triton.next_power_of_2(R)", f"if {fits} <= PERSISTENT_R:"]
    lines += _indented(_persistent_lines(persistent, NARROWEST_TILE if tiles else 1, config))
    if split:
        programs = "triton.cdiv(n_rows, TILE_K)" if tiles else "n_rows"
        lines.append(f"elif {programs} < SPLIT_PROGRAMS:")
        lines += _indented(
            [f"programs = {programs}", *_split_lines(plan, split, tiles, options, device)]
        )
    lines.append("else:")
    lines += _indented(_looped_lines(looped, tiles, options))
    return lines


def launch_lines(
    plan: Plan, traced: Traced, config: dict[str, Any], writers: list[KernelWriter]
) -> list[str]:
    """The host code that allocates the plan's outputs and launches its kernels."""
    lines: list[str] = []
    for s in plan.sources:
        if plan.flat:
            lines.append(f"{s.name} = {s.host}.contiguous()")
        elif s.host != s.name:
            lines.append(f"{s.name} = {s.host}")
    inputs = [s for s in plan.sources if s.host in traced.forward_args] or plan.sources
    device = f"{inputs[0].name}.device"
    for out in plan.outputs:
        shape = "(" + ", ".join(out.shape) + ("," if len(out.shape) == 1 else "") + ")"
        dtype = _dtype_expr(plan, traced, out.dtype)
        lines.append(f"{out.name} = torch.empty({shape}, device={device}, dtype={dtype})")
    options = {k: config[k] for k in LAUNCH_KEYS if k in config}
    blocks = {k: k for k in _constexprs(config)}
    if plan.family == "pointwise" and plan.row_tiles:
        lines += row_tile_launch_lines(plan)
        tiles = {"BLOCK_ROWS": "block_rows", "BLOCK_COLS": "block_cols"}
        lines.append(_launch(writers[0], blocks | tiles, options))
    elif plan.family == "pointwise":
        lines.append(f"n_elements = {plan.outputs[0].name}.numel()")
        lines.append("grid = (triton.cdiv(n_elements, BLOCK_SIZE),)")
        lines.append(_launch(writers[0], blocks, options))
    elif plan.family == "conv":
        lines += conv_launch_lines(plan, config, writers)
    elif plan.family == "matmul":
        lines += matmul_launch_lines(plan, config, writers, device)
    else:
        lines += _reduction_lines(plan, config, writers, device)
    return lines


def return_line(traced: Traced, outputs: list[str]) -> str:
    if traced.output_is_tuple:
        return f"return ({', '.join(outputs)}{',' if len(outputs) == 1 else ''})"
    return f"return {outputs[0]}"


def kernel_writers(
    plan: Plan, name: str, config: dict[str, Any], interpreter: bool
) -> list[KernelWriter]:
    """The kernels a plan launches: one, or a reduction's persistent/looped/split variants."""
    if plan.family == "conv":
        return conv_writers(plan, name, config, interpreter)
    if plan.family == "matmul":
        combine = name.replace("_kernel", "_combine_kernel")
        fp32_dot = str(config.get("fp32_dot", "tf32x3"))
        return [
            MatmulWriter(plan, name, _constexprs(config), interpreter, fp32_dot=fp32_dot),
            MatmulWriter(plan, combine, _constexprs(config), interpreter, mode="combine"),
        ]
    if plan.family != "reduction":
        tiles = ["BLOCK_ROWS", "BLOCK_COLS"] if plan.row_tiles else []
        return [PointwiseWriter(plan, name, _constexprs(config) + tiles, interpreter)]
    modes = ["persistent", "looped", *(["partial", "combine"] if splittable(plan) else [])]
    fulls = any(o.value.level == FULL for o in plan.outputs)
    writers = []
    for mode in modes:
        blocks = ["BLOCK_M", "BLOCK_R"]
        if mode == "combine":
            blocks = ["BLOCK_M", "BLOCK_S", *(["BLOCK_R"] if fulls else [])]
        kernel = name if mode == "persistent" else name.replace("_kernel", f"_{mode}_kernel")
        writers.append(ReductionWriter(plan, kernel, blocks, interpreter, mode=mode))
    return writers


def plan_summary(plan: Plan, name: str) -> list[str]:
    """The header lines that say what a kernel fuses and how it walks its iteration space."""
    return [
        f"Fused into {name}: {describe(plan)}.",
        f"Plan: {plan.family} over a rank-{plan.rank} iteration space"
        + (f", reducing dims {list(plan.reduced)}" if plan.reduced else "")
        + f"; {ROW_TILES if plan.row_tiles else STRATEGY[plan.family]}.",
    ]


def module_constants(config: dict[str, Any]) -> dict[str, Any]:
    """A launch config's module constants: its upper-case keys."""
    return {k: v for k, v in config.items() if k.isupper()}


def launch_config_line(config: dict[str, Any]) -> str:
    return f"Launch config: {config}."


def module_source(
    title: str,
    traced: Traced,
    summary: list[str],
    constants: dict[str, Any],
    writers: list[KernelWriter],
    forward: list[str],
) -> str:
    """The candidate module: header (title and summary lines), constants, kernels, and
    ModelNew with forward's body."""
    header = [
        f'"""{title}, generated by the aikg builtin agent.',
        "",
        *summary,
        '"""',
        "",
        *sorted({"import torch", "import torch.nn as nn", *traced.init_imports}),
        "import triton",
        "import triton.language as tl",
        "",
        *(f"{k} = {v}" for k, v in constants.items()),
    ]
    parts = ["\n".join(header)]
    if any(w.uses_multiply() for w in writers):
        parts.append(MULTIPLY_HELPER)
    kernels = [w.kernel() for w in writers]
    if any(f"{ADAPTIVE_HELPER}(" in k for k in kernels):
        parts.append(ADAPTIVE_HELPER_SOURCE)
    parts += kernels
    sig = f"self, {traced.init_signature}" if traced.init_signature else "self"
    model = [
        "class ModelNew(nn.Module):",
        f"{INDENT}def __init__({sig}):",
        *(INDENT * 2 + line for line in _init_lines(traced)),
        "",
        f"{INDENT}def forward({', '.join(['self', *traced.forward_args])}):",
        *(INDENT * 2 + line for line in forward),
    ]
    parts.append("\n".join(model))
    return "\n\n\n".join(parts) + "\n"


def render_module(
    op_name: str, traced: Traced, plan: Plan, config: dict[str, Any], interpreter: bool = False
) -> str:
    """The whole candidate module as source text (interpreter: for the CPU backend)."""
    name = kernel_name(op_name)
    writers = kernel_writers(plan, name, config, interpreter)
    forward = launch_lines(plan, traced, config, writers)
    forward.append(return_line(traced, [o.returned or o.name for o in plan.outputs]))
    title = f"Triton kernel for `{op_name}`"
    summary = [*plan_summary(plan, name), launch_config_line(config)]
    return module_source(title, traced, summary, module_constants(config), writers, forward)
