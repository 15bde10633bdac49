"""The shared core of the kernel writers: a `KernelWriter` turns a plan's values into
Triton lines (expressions, loads, stores, index decomposition) and assembles the kernel's
signature and source; each family's subclass writes the body (pointwise_writer.py,
matmul_writer.py, reduction_writer.py).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from agents.builtin.values import ROW, Num, Output, Plan, Value

INDENT = "    "
ROW_AXIS = "axis=1, keep_dims=True"  # reduce a [BLOCK_M, BLOCK_R] block to its row column
NEG_INF = '-float("inf")'
LANES = "[BLOCK_M, BLOCK_R]"  # the shape of a reduction's per-lane accumulators
LANE_ZEROS = f"tl.zeros({LANES}, dtype=tl.float32)"
_NEEDLESS_PARENS = re.compile(r"(?<![\w.])\(([\w.]+)\)")


def tidy(expr: str) -> str:
    """Drop parentheses around a bare name or number: `(x) * (beta)` -> `x * beta`."""
    return _NEEDLESS_PARENS.sub(r"\1", expr)


@dataclass
class Scope:
    lines: list[str] = field(default_factory=list)
    done: set[str] = field(default_factory=set)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(Num(value))
    return str(value)


class KernelWriter(ABC):
    """Emits one kernel's source for a plan; `kernel()` returns it, `params()` its arguments."""

    single_scope = True  # no per-row values: every value lives in the body's one scope

    def __init__(
        self, plan: Plan, kernel_name: str, constexprs: list[str], interpreter: bool = False
    ) -> None:
        self.plan = plan
        self.interpreter = interpreter
        self.name = kernel_name
        self.constexprs = constexprs
        self.body: list[str] = []
        self.row = Scope()

    @abstractmethod
    def _write_body(self) -> None:
        """Append the kernel's statements to self.body."""

    # ---- expressions ---------------------------------------------------------------
    def _offset(self, v: Value) -> str:
        if self.plan.flat:
            return "offsets"
        if v.index is not None:
            terms = [f"{idx} * {v.source}_s{j}" for j, idx in enumerate(v.index)]
        else:
            terms = [f"i{d} * {v.source}_s{j}" for j, d in enumerate(v.dims) if d is not None]
        return " + ".join(terms) or "0"

    def _load(self, v: Value, in_loop: bool) -> str:
        src = next(s for s in self.plan.sources if s.name == v.source)
        offset = self._offset(v)
        ptr = f"{src.name}_ptr + {offset}"
        if offset == "0" and (self.single_scope or not in_loop):
            # one value (a 0-dim buffer) shared by every lane: a scalar pointer takes no mask
            load = f"tl.load({ptr})"
        elif v.guard:
            mask = "mask" if self.single_scope else "rmask" if in_loop else "row_mask"
            mask = "row_mask" if v.guard_bounds_row and self.plan.row_tiles else mask
            load = f"tl.load({ptr}, mask={mask} & {v.guard}, other={v.fill})"
        elif self.single_scope:
            load = f"tl.load({ptr}, mask=mask)"
        elif in_loop:
            load = f"tl.load({ptr}, mask=rmask, other=0.0)"
        else:
            load = f"tl.load({ptr}, mask=row_mask, other=0.0)"
        return load + (".to(tl.float32)" if src.dtype.is_floating_point else "")

    def operand(self, v: Any, scope: Scope) -> Any:
        """A formula operand: a variable name, or the literal itself for formulas to format."""
        if isinstance(v, Value):
            return v.operands[0] if v.kind == "const" else self.emit(v, scope)
        return v

    def emit(self, v: Any, scope: Scope) -> str:
        """The variable (or literal) holding v, emitting its line into scope if needed."""
        if not isinstance(v, Value) or v.kind == "const":
            return _literal(self.operand(v, scope))
        if not self.single_scope and v.level == ROW:
            scope = self.row
        if v.name in scope.done:
            return v.name
        if v.kind == "dot":
            return v.name
        if v.kind == "red":
            raise AssertionError(f"reduction {v.name} used before its pass")
        if v.kind == "scan":
            self._scan(v, scope)
            scope.done.add(v.name)
            return v.name
        if v.kind == "load":
            for index in v.operands:  # a gather's index, computed before the load uses it
                self.emit(index, scope)
            line = f"{v.name} = {self._load(v, scope is not self.row)}"
        else:
            args = [self.operand(o, scope) for o in v.operands]
            opts = {k: self.operand(o, scope) for k, o in v.options.items()}
            line = f"{v.name} = {tidy(v.formula(args, opts))}"
        target = self.body if scope is self.row else scope.lines
        target.append(line)
        scope.done.add(v.name)
        return v.name

    def _scan(self, v: Value, scope: Scope) -> None:
        """A cumulative sum/product: this block's scan plus the carry from earlier blocks."""
        x = self.emit(v.operands[0], scope)
        carry = f"carry_{v.name}"
        identity = "0.0" if v.red_op == "sum" else "1.0"
        self.body.append(f"{carry} = tl.full([BLOCK_M, 1], {identity}, tl.float32)")
        masked = f"tl.where(rmask, {x}, {identity})"
        if v.red_op == "sum":
            scope.lines.append(f"{v.name} = {carry} + tl.cumsum({masked}, axis=1)")
            scope.lines.append(f"{carry} += tl.sum({masked}, {ROW_AXIS})")
        else:
            scope.lines.append(f"{v.name} = {carry} * tl.cumprod({masked}, axis=1)")
            scope.lines.append(f"{carry} *= tl.reduce({masked}, 1, _multiply, keep_dims=True)")

    # ---- pieces of the kernel ------------------------------------------------------
    def _decompose(self, index: str, dims: list[int], target: list[str]) -> None:
        """Split a linear index over `dims` (row-major) into i<d> variables."""
        if not dims:
            return
        if len(dims) == 1:
            target.append(f"i{dims[0]} = {index}")
            return
        rem = f"rem_{index}"
        target.append(f"{rem} = {index}")
        for d in reversed(dims[1:]):
            target.append(f"i{d} = {rem} % n{d}")
            target.append(f"{rem} = {rem} // n{d}")
        target.append(f"i{dims[0]} = {rem}")

    def _store_outputs(self, mask: str) -> None:
        """Each output's value, emitted in the row scope, stored under ``mask``."""
        for out in self.plan.outputs:
            self.body.append(self._store(out, self.emit(out.value, self.row), mask))

    def _store(self, out: Output, value: str, mask: str | None) -> str:
        if self.plan.flat:
            offset = "offsets"
        elif out.index is not None:
            offset = " + ".join(f"{idx} * {out.name}_s{j}" for j, idx in enumerate(out.index))
        else:
            dims = out.value.dims
            offset = " + ".join(
                f"i{d} * {out.name}_s{j}" for j, d in enumerate(dims) if d is not None
            )
        reduction = self.plan.family == "reduction"
        if reduction and not offset:
            offset = "tl.zeros_like(rows)"  # a total: the one row writes the one element
        ptr = f"{out.name}_ptr" + (f" + {offset}" if offset else "")
        if value[0].isdigit() or value.startswith(("-", "float(")):
            shape = "[BLOCK_ROWS, BLOCK_COLS]" if self.plan.row_tiles else "[BLOCK_SIZE]"
            if reduction:
                shape = "[BLOCK_M, 1]" if out.value.level == ROW else "[BLOCK_M, BLOCK_R]"
            value = f"tl.full({shape}, {value}, tl.float32)"
        cast = f"{value}.to({out.name}_ptr.dtype.element_ty)"
        return f"tl.store({ptr}, {cast}" + (f", mask={mask})" if mask else ")")

    # ---- signature and launch ------------------------------------------------------
    def params(self) -> list[tuple[str, str]]:
        """(kernel parameter, host expression) in launch order."""
        plan = self.plan
        out: list[tuple[str, str]] = [(f"{s.name}_ptr", s.name) for s in plan.sources]
        out += [(f"{o.name}_ptr", o.name) for o in plan.outputs]
        out += [(name, host if name != "R" else "R") for name, host in plan.scalars]
        out += self._extent_params()
        if not plan.flat:
            out += [(f"n{d}", size) for d, size in enumerate(plan.f_sizes)]
            for s in plan.sources:
                out += [(f"{s.name}_s{j}", f"{s.name}.stride({j})") for j in range(s.rank)]
            for o in plan.outputs:
                out += [(f"{o.name}_s{j}", f"{o.name}.stride({j})") for j in range(len(o.shape))]
        return out

    def _extent_params(self) -> list[tuple[str, str]]:
        """The family's own sizes (and buffers), passed after the plan's scalars."""
        return []

    def kernel(self) -> str:
        self._write_body()
        sizes = self._constant_sizes()
        names = [f"{p}: tl.constexpr" if p in sizes else p for p, _ in self.params()]
        names += [f"{c}: tl.constexpr" for c in self.constexprs]
        head = [
            "@triton.jit",
            f"def {self.name}(",
            *(f"{INDENT}{n}," for n in names),
            "):",
        ]
        return "\n".join(head + [INDENT + line for line in self.body])

    def _constant_sizes(self) -> set[str]:
        """Sizes passed as compile-time constants (`tl.constexpr`)."""
        return set()

    def uses_multiply(self) -> bool:
        return any(r.red_op == "prod" for r in self.plan.reductions) or self.plan.has_cumprod
