"""Render the candidate module: header comment, kernels, and `ModelNew` with its host wrapper.

Launch configurations are dicts: upper-case keys (BLOCK_*, GROUP_M) become module constants
passed as `tl.constexpr`, `num_warps`/`num_stages` go to the launch, and reductions also carry
PERSISTENT_R (rows up to this length are kept in registers by a one-block kernel) and
`persistent_warps` (that kernel's warps), and SPLIT_ROWS / SPLIT_BLOCKS (with fewer rows
than SPLIT_ROWS, single-pass reductions cut each row into chunks of SPLIT_BLOCKS blocks).
"""

from __future__ import annotations

import re
from typing import Any

import torch

from agents.builtin.kernel_writer import INDENT, KernelWriter, splittable, tiled
from agents.builtin.reference import Traced
from agents.builtin.values import Plan

MULTIPLY_HELPER = """@triton.jit
def _multiply(a, b):
    return a * b"""
LAUNCH_KEYS = ("num_warps", "num_stages")
HOST_CONSTANTS = ("PERSISTENT_R", "SPLIT_ROWS", "SPLIT_BLOCKS", "TILE_K", "TILE_R")
STRATEGY = {
    "pointwise": "one program per BLOCK_SIZE elements, one pass over memory",
    "reduction": "one program per row",
    "matmul": "one program per BLOCK_M x BLOCK_N output tile, fp32 accumulator",
}


def kernel_name(op_name: str) -> str:
    base = re.sub(r"[^0-9a-zA-Z]+", "_", op_name).strip("_").lower() or "fused"
    if base[0].isdigit():
        base = "op_" + base
    return f"{base}_kernel"


def describe(plan: Plan) -> str:
    """What the kernel fuses, as a chain of aten ops."""
    return " -> ".join(plan.fused) or "copy"


def _constexprs(config: dict[str, Any]) -> list[str]:
    """The config keys that are kernel constexprs (upper case, but for the host's limit)."""
    return [k for k in config if k.isupper() and k not in HOST_CONSTANTS]


def _init_lines(traced: Traced) -> list[str]:
    """The reference's own __init__ body, or else its attributes, parameters and buffers
    rebuilt with the traced shapes (the verifier loads their values from its state_dict)."""
    if traced.init_body is not None:
        return traced.init_body
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
        owner = "self" + "".join(f".{p}" for p in parts[:-1])
        empty = f"torch.empty({shape!r}, dtype={dtype})"
        if kind == "param":
            lines.append(f"{owner}.{parts[-1]} = nn.Parameter({empty})")
        else:
            lines.append(f'{owner}.register_buffer("{parts[-1]}", {empty})')
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


def _split_lines(
    plan: Plan, config: dict[str, Any], writers: list[KernelWriter], device: str
) -> list[str]:
    """Few long rows: each row is cut into SPLIT chunks, reduced apart, then combined."""
    partial, combine = writers[2:]
    blocks = {k: k for k in _constexprs(config)}
    options = {k: config[k] for k in LAUNCH_KEYS if k in config}
    lines = [
        "# few long rows: reduce SPLIT chunks of each row apart, then combine the partials",
        "CHUNK = BLOCK_R * SPLIT_BLOCKS",
        "SPLIT = triton.cdiv(R, CHUNK)",
    ]
    lines += [
        f"part_{r.name} = torch.empty((n_rows, SPLIT), device={device}, dtype=torch.float32)"
        for r in plan.reductions
    ]
    lines.append(_launch(partial, blocks, options, "(n_rows, SPLIT)"))
    one_block = {"BLOCK_R": "triton.next_power_of_2(SPLIT)"}
    lines.append(_launch(combine, one_block, {"num_warps": 4}, "(n_rows,)"))
    return lines


def _forward_lines(
    plan: Plan, traced: Traced, config: dict[str, Any], writers: list[KernelWriter]
) -> list[str]:
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
    if plan.family == "pointwise":
        lines.append(f"n_elements = {plan.outputs[0].name}.numel()")
        lines.append("grid = (triton.cdiv(n_elements, BLOCK_SIZE),)")
        lines.append(_launch(writers[0], blocks, options))
    elif plan.family == "matmul":
        sizes = plan.f_sizes
        tiles = f"triton.cdiv({sizes[-2]}, BLOCK_M) * triton.cdiv({sizes[-1]}, BLOCK_N)"
        lines.append(f"grid = ({', '.join([tiles, *sizes[:-2]])}{',' if len(sizes) == 2 else ''})")
        lines.append(_launch(writers[0], blocks, options))
    elif tiled(plan):
        kept = [plan.f_sizes[d] for d in range(plan.rank) if d not in plan.reduced]
        reduced = [plan.f_sizes[d] for d in plan.reduced]
        lines += [
            f"n_rows = {' * '.join(kept)}",
            f"R = {' * '.join(reduced)}",
            "# rows run along the innermost dim: each program reduces TILE_K neighbouring rows",
            "grid = (triton.cdiv(n_rows, TILE_K),)",
            _launch(writers[0], {"BLOCK_K": "TILE_K", "BLOCK_R": "TILE_R"}, options),
        ]
    else:
        kept = [plan.f_sizes[d] for d in range(plan.rank) if d not in plan.reduced]
        reduced = [plan.f_sizes[d] for d in plan.reduced]
        persistent, looped = writers[:2]
        one_block = {"BLOCK_R": "triton.next_power_of_2(R)"}
        lines += [
            f"n_rows = {' * '.join(kept) or '1'}",
            f"R = {' * '.join(reduced)}",
            "grid = (n_rows,)",
            "if R <= PERSISTENT_R:",
            f"{INDENT}# the whole row fits in one block: read it once, keep it in registers",
            INDENT + _launch(persistent, one_block, {"num_warps": config["persistent_warps"]}),
        ]
        if len(writers) == 4:
            lines.append("elif n_rows < SPLIT_ROWS:")
            lines += [INDENT + line for line in _split_lines(plan, config, writers, device)]
        lines += ["else:", INDENT + _launch(looped, blocks, options)]
    outs = [o.name for o in plan.outputs]
    if traced.output_is_tuple:
        lines.append(f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    else:
        lines.append(f"return {outs[0]}")
    return lines


def render_module(
    op_name: str, traced: Traced, plan: Plan, config: dict[str, Any], interpreter: bool = False
) -> str:
    """The whole candidate module as source text (interpreter: for the CPU backend)."""
    name = kernel_name(op_name)
    blocks = _constexprs(config)
    if tiled(plan):
        writers = [KernelWriter(plan, name, ["BLOCK_K", "BLOCK_R"], interpreter, mode="tiled")]
    elif plan.family == "reduction":
        variants = ["looped", "partial", "combine"] if splittable(plan) else ["looped"]
        writers = [KernelWriter(plan, name, blocks, interpreter, mode="persistent")]
        writers += [
            KernelWriter(plan, name.replace("_kernel", f"_{v}_kernel"), blocks, interpreter, mode=v)
            for v in variants
        ]
    else:
        writers = [KernelWriter(plan, name, blocks, interpreter)]
    kernels = [w.kernel() for w in writers]
    constants = [k for k in config if k.isupper()]
    header = [
        f'"""Triton kernel for `{op_name}`, generated by the aikg builtin agent.',
        "",
        f"Fused into {name}: {describe(plan)}.",
        f"Plan: {plan.family} over a rank-{plan.rank} iteration space"
        + (f", reducing dims {list(plan.reduced)}" if plan.reduced else "")
        + f"; {STRATEGY[plan.family]}.",
        f"Launch config: {config}.",
        '"""',
        "",
        *sorted({"import torch", "import torch.nn as nn", *traced.init_imports}),
        "import triton",
        "import triton.language as tl",
        "",
        *(f"{k} = {config[k]}" for k in constants),
    ]
    parts = ["\n".join(header)]
    if any(w.uses_multiply() for w in writers):
        parts.append(MULTIPLY_HELPER)
    parts += kernels
    sig = f"self, {traced.init_signature}" if traced.init_signature else "self"
    model = [
        "class ModelNew(nn.Module):",
        f"{INDENT}def __init__({sig}):",
        *(INDENT * 2 + line for line in _init_lines(traced)),
        "",
        f"{INDENT}def forward({', '.join(['self', *traced.forward_args])}):",
        *(INDENT * 2 + line for line in _forward_lines(plan, traced, config, writers)),
    ]
    parts.append("\n".join(model))
    return "\n\n\n".join(parts) + "\n"
