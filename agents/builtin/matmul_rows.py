"""A matmul whose output rows a reduction reads (GEMM -> logsumexp, softmax, a row norm),
in one kernel where a whole output row fits one program's tile.

The partitioner makes two stages of such a graph: the matmul with its pointwise epilogue
writes its output to a buffer, the reduction stage reads it back. When the output row is
at most `ROW_TILE` wide, one kernel does both: each program computes BLOCK_M whole rows of
the product (a `[BLOCK_M, BLOCK_R]` fp32 tile, K walked in BLOCK_K steps), applies the
matmul's epilogue, and runs the reduction stage's persistent body on the tile in
registers, so the product never goes through memory. `ModelNew.forward` picks the fused
kernel or the two stages per call from the row's width.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

from agents.builtin.kernel_writer import INDENT, Scope
from agents.builtin.lowered import Lowered
from agents.builtin.plan_assembly import reachable_loads
from agents.builtin.reduction_writer import ReductionWriter
from agents.builtin.render import (
    _dtype_expr,
    describe,
    kernel_name,
    launch_config_line,
    module_source,
    return_line,
)
from agents.builtin.values import FULL, Dot, Plan, Value

ROW_TILE = 512  # the widest output row a program holds next to its K loop's operand tiles
# rows per program: every program reads all of B (from L2), so more rows mean less
# traffic; 32 x 512 fp32 accumulators are 64 registers a thread over 8 warps
WIDE_ROWS_BLOCK_M = 32  # rows wider than 128
NARROW_ROWS_BLOCK_M = 64
FUSED_BLOCK_K = 32
REDUCED = 1  # the one dim the reduction reduces: the product's columns


class MatmulRowsWriter(ReductionWriter):
    """The reduction stage's persistent kernel, reading the matmul's tile instead of its
    buffer: a load of the buffer becomes the K loop and the matmul's epilogue."""

    def __init__(self, plan: Plan, name: str, interpreter: bool, matmul: Plan, buffer: str):
        blocks = ["BLOCK_M", "BLOCK_R", "BLOCK_K"]
        super().__init__(plan, name, blocks, interpreter, mode="persistent")
        self.matmul = matmul
        self.buffer = buffer

    def emit(self, v: Any, scope: Scope) -> str:
        if not (isinstance(v, Value) and v.kind == "load" and v.source == self.buffer):
            return super().emit(v, scope)
        if v.name not in scope.done:
            self._product_tile(scope)
            tile = super().emit(_along_rows(self.matmul.outputs[0].value, {}), scope)
            if tile != v.name:
                scope.lines.append(f"{v.name} = {tile}")
            scope.done.add(v.name)
        return v.name

    def _product_tile(self, scope: Scope) -> None:
        """acc: this program's BLOCK_M rows of A @ B, every column of them."""
        dot = self.matmul.dot
        assert dot is not None
        roles = {
            "a": {"m": "i0", "k": "k[None, :]"},
            "b": {"k": "k[:, None]", "n": f"i{REDUCED}"},
        }
        masks = {"a": "row_mask & (k[None, :] < K)", "b": "(k[:, None] < K) & (r < R)"}
        lines = [
            "# the product's whole rows: K in BLOCK_K steps into an fp32 tile",
            "acc = tl.zeros((BLOCK_M, BLOCK_R), dtype=tl.float32)",
            "for k0 in range(0, K, BLOCK_K):",
            f"{INDENT}k = k0 + tl.arange(0, BLOCK_K)",
        ]
        for var, operand in (("a", dot.a), ("b", dot.b)):
            terms = " + ".join(
                f"{roles[var][role]} * {operand.source}_s{j}"
                for j, role in enumerate(operand.roles)
            )
            load = f"tl.load({operand.source}_ptr + {terms}, mask={masks[var]}, other=0.0)"
            lines.append(f"{INDENT}{var} = {load}")
        lines += _dot_lines(self.plan, dot, self.interpreter)
        scope.lines += lines


def _operand_dtype(plan: Plan, dot: Dot) -> torch.dtype:
    return next(s.dtype for s in plan.sources if s.name == dot.a.source)


def _dot_lines(plan: Plan, dot: Dot, interpreter: bool) -> list[str]:
    """The tile's tl.dot step (16-bit operands: fp32 ones keep the two stages), bf16
    widened in the interpreter, which has no bf16 dot."""
    dtype = _operand_dtype(plan, dot)
    lines: list[str] = []
    if interpreter and dtype == torch.bfloat16:
        lines += [f"{INDENT}a = a.to(tl.float32)", f"{INDENT}b = b.to(tl.float32)"]
    return [*lines, f"{INDENT}acc = tl.dot(a, b, acc)"]


def _along_rows(v: Any, seen: dict[int, Any]) -> Any:
    """The matmul epilogue's values relabelled for the reduction's space: a value that
    varies along the reduced dim is full-size (its loads masked by rmask)."""
    if not isinstance(v, Value) or v.kind == "const":
        return v
    if id(v) not in seen:
        operands = [_along_rows(o, seen) for o in v.operands]
        options = {k: _along_rows(o, seen) for k, o in v.options.items()}
        full = REDUCED in v.dims or any(isinstance(o, Value) and o.level == FULL for o in operands)
        seen[id(v)] = replace(
            v, operands=operands, options=options, level=FULL if full else v.level
        )
    return seen[id(v)]


def _names(roots: list[Any]) -> set[str]:
    names: set[str] = set()
    stack = list(roots)
    while stack:
        v = stack.pop()
        if isinstance(v, Value) and v.name not in names:
            names.add(v.name)
            stack += [*v.operands, *v.options.values()]
    return names


@dataclass
class MatmulRows(Lowered):
    """A matmul stage and the row reduction that reads it, with the one-kernel variant."""

    fused_plan: Plan | None = None
    buffer: str = ""

    def render(self, op_name: str, config: dict[str, Any], interpreter: bool) -> str:
        assert self.fused_plan is not None
        parts = self.stage_parts(op_name, self.stage_configs(config), interpreter)
        name = kernel_name(f"{op_name}_rows")
        matmul, reduction = (stage.plan for stage in self.stages)
        fused = MatmulRowsWriter(self.fused_plan, name, interpreter, matmul, self.buffer)
        forward = [
            f"# the product's rows fit one program (up to {ROW_TILE} columns): one kernel",
            f"if max(triton.next_power_of_2({reduction.f_sizes[REDUCED]}), 16) <= {ROW_TILE}:",
            *(INDENT + line for line in self._fused_launch(fused)),
            "else:",
            *(INDENT + line for line in parts.forward),
            return_line(self.traced, self.outputs),
        ]
        summary = [
            f"One kernel where a row fits ({name}): {describe(matmul)} -> "
            f"{describe(reduction)}, the product's rows held in registers.",
            "Else two stages:",
            *parts.summary,
            launch_config_line(config),
        ]
        title = f"Triton kernels for `{op_name}`: a matmul and the reduction of its rows"
        writers = [fused, *parts.writers]
        return module_source(title, self.traced, summary, parts.constants, writers, forward)

    def _fused_launch(self, writer: MatmulRowsWriter) -> list[str]:
        plan = self.fused_plan
        assert plan is not None
        device = f"{plan.sources[0].name}.device"
        lines = [f"{s.name} = {s.host}" for s in plan.sources if s.host != s.name]
        for out in plan.outputs:
            shape = "(" + ", ".join(out.shape) + ("," if len(out.shape) == 1 else "") + ")"
            dtype = _dtype_expr(plan, self.traced, out.dtype)
            lines.append(f"{out.name} = torch.empty({shape}, device={device}, dtype={dtype})")
        kept, reduced = plan.f_sizes
        lines += [
            f"n_rows = {kept}",
            f"R = {reduced}",
            "block_r = max(triton.next_power_of_2(R), 16)",
            f"block_m = {NARROW_ROWS_BLOCK_M} if block_r <= 128 else {WIDE_ROWS_BLOCK_M}",
        ]
        args = [host for _, host in writer.params()]
        args += ["BLOCK_M=block_m", "BLOCK_R=block_r", f"BLOCK_K={FUSED_BLOCK_K}"]
        args.append("num_warps=4 if block_m * block_r <= 4096 else 8")
        lines.append(f"{writer.name}[(triton.cdiv(n_rows, block_m),)]({', '.join(args)})")
        return lines

    def design(self, op_name: str) -> str:
        return (
            f"One kernel while the product's rows are at most {ROW_TILE} wide: each program "
            "computes BLOCK_M whole rows of the matmul (fp32 tile, K in BLOCK_K steps), applies "
            "its epilogue and reduces the rows in registers. Wider rows: " + super().design(op_name)
        )


def fuse_matmul_rows(lowered: Lowered) -> Lowered:
    """The two stages with their one-kernel variant, when they are a 2-D matmul of 16-bit
    operands whose only result is the buffer that a reduction over its rows' last dim
    reads; else as given.

    fp32 operands keep the two stages: on an H200 (torch 2.11, Triton 3.6) the one kernel ran
    a 16384x2048 @ 2048x256 fp32 matmul and its row norm in 0.353 ms against 0.321 ms for
    the two stages (the matmul's own 3xTF32 tile is faster than the fused kernel's three
    products over whole rows), while in fp16 a GEMM and the logsumexp of its 512-wide rows
    took 0.084 ms in one kernel against 0.133 ms in two."""
    if len(lowered.stages) != 2:
        return lowered
    matmul, reduction = (stage.plan for stage in lowered.stages)
    first, second = lowered.stages
    if not (
        matmul.family == "matmul"
        and matmul.dot is not None
        and _operand_dtype(matmul, matmul.dot) != torch.float32
        and matmul.rank == 2
        and reduction.family == "reduction"
        and reduction.reduced == (REDUCED,)
        and reduction.f_sizes == matmul.f_sizes
        and len(matmul.outputs) == 1
        and first.writes == second.reads == [matmul.outputs[0].name]
    ):
        return lowered
    buffer = matmul.outputs[0].name
    loads = [v for v in _loads(reduction) if v.source == buffer]
    if any(v.dims != (0, REDUCED) or v.index is not None or v.flipped for v in loads):
        return lowered  # the buffer read transposed, through a view or reversed
    epilogue = _names([matmul.outputs[0].value])
    if epilogue & (_names([o.value for o in reduction.outputs] + reduction.reductions) - {buffer}):
        return lowered  # a name both kernels use for different values
    taken = {s.name for s in matmul.sources}
    sources = matmul.sources + [s for s in reduction.sources if s.name not in taken | {buffer}]
    fused = replace(
        reduction,
        sources=sources,
        scalars=[*matmul.scalars, *reduction.scalars],
        fused=[*matmul.fused, *reduction.fused],
        dot=matmul.dot,
    )
    return MatmulRows(lowered.traced, lowered.stages, lowered.outputs, fused, buffer)


def _loads(plan: Plan) -> list[Value]:
    return reachable_loads([o.value for o in plan.outputs] + plan.reductions)
