"""Write the Triton kernel for a fused plan.

Pointwise plans get the shape of the Triton vector-add tutorial: one program per block
of output elements. Reduction plans get one program per row (a point of the kept dims):
the looped kernel walks the reduced dims in blocks of BLOCK_R, one loop per dependent
reduction plus a last loop that stores full-size outputs; the persistent kernel holds the
whole row in one block, so every pass reuses what was loaded once; the partial and
combine kernels split long rows over many programs; the tiled kernel gives each program
BLOCK_K rows when rows run along the innermost dim. Matmul plans follow the Triton matmul
tutorial with the pointwise epilogue applied to the fp32 accumulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch

from agents.builtin.values import FULL, ROW, Num, Output, Plan, Value

INDENT = "    "
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


def tiled(plan: Plan) -> bool:
    """A reduction that keeps the innermost dim: its rows are strided, so tile across them."""
    return plan.family == "reduction" and plan.rank - 1 not in plan.reduced


def splittable(plan: Plan) -> bool:
    """One pass of sums/maxima/minima and only per-row outputs: rows can be split."""
    return (
        plan.family == "reduction"
        and len(set(reduction_passes(plan.reductions).values())) == 1
        and all(r.red_op in ("sum", "max", "min") for r in plan.reductions)
        and all(o.value.level == ROW for o in plan.outputs)
    )


def reduction_passes(reductions: list[Value]) -> dict[str, int]:
    """Pass number of each reduction: one more than the reductions its input needs."""
    memo: dict[str, int] = {}

    def depth(v: Any) -> int:
        if not isinstance(v, Value):
            return 0
        if v.name in memo:
            return memo[v.name]
        inner = max((depth(o) for o in v.operands), default=0)
        memo[v.name] = inner + 1 if v.kind == "red" else inner
        return memo[v.name]

    return {r.name: depth(r) for r in reductions}


class KernelWriter:
    """Emits one kernel's source for a plan; `kernel()` returns it, `params()` its arguments."""

    def __init__(
        self,
        plan: Plan,
        kernel_name: str,
        constexprs: list[str],
        interpreter: bool = False,
        mode: str = "looped",
    ) -> None:
        self.plan = plan
        self.interpreter = interpreter
        # reductions: looped (walk the row in blocks), persistent (the row is one block,
        # loaded once), partial (one CHUNK of a row per program), combine (the partials), or
        # tiled (BLOCK_K rows per program, for rows that are strided columns)
        self.mode = mode
        self.tiled = mode == "tiled"
        # tiled mode keeps per-row values as [BLOCK_K, 1] columns
        self.axis = "axis=1, keep_dims=True" if self.tiled else "axis=0"
        self.name = kernel_name
        self.constexprs = constexprs
        self.body: list[str] = []
        self.row = Scope()
        self.lanes = Scope(lines=self.body)  # persistent mode: one scope for every pass
        self.single_scope = plan.family != "reduction"  # no per-row values
        self.block = "BLOCK_R" if plan.family == "reduction" else "BLOCK_SIZE"

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
        ptr = f"{src.name}_ptr + {self._offset(v)}"
        if self.single_scope:
            load = f"tl.load({ptr}, mask=mask)"
        elif in_loop:
            load = f"tl.load({ptr}, mask=rmask, other=0.0)"
        elif self.tiled:
            load = f"tl.load({ptr}, mask=kmask, other=0.0)"
        else:
            load = f"tl.load({ptr})"
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
        shape = "[BLOCK_K, 1]" if self.tiled else "[]"
        self.body.append(f"{carry} = tl.full({shape}, {identity}, tl.float32)")
        masked = f"tl.where(rmask, {x}, {identity})"
        axis = 1 if self.tiled else 0
        if v.red_op == "sum":
            scope.lines.append(f"{v.name} = {carry} + tl.cumsum({masked}, axis={axis})")
            scope.lines.append(f"{carry} += tl.sum({masked}, {self.axis})")
        else:
            keep = ", keep_dims=True" if self.tiled else ""
            scope.lines.append(f"{v.name} = {carry} * tl.cumprod({masked}, axis={axis})")
            scope.lines.append(f"{carry} *= tl.reduce({masked}, {axis}, _multiply{keep})")

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
        ptr = f"{out.name}_ptr" + (f" + {offset}" if offset else "")
        if value[0].isdigit() or value.startswith(("-", "float(")):
            value = f"tl.full([{self.block}], {value}, tl.float32)"
        cast = f"{value}.to({out.name}_ptr.dtype.element_ty)"
        return f"tl.store({ptr}, {cast}" + (f", mask={mask})" if mask else ")")

    def _pointwise_body(self) -> None:
        self.body += [
            "pid = tl.program_id(axis=0)",
            "offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)",
            "mask = offsets < n_elements",
        ]
        if not self.plan.flat:
            self._decompose("offsets", list(range(self.plan.rank)), self.body)
        for out in self.plan.outputs:
            value = self.emit(out.value, self.row)
            self.body.append(self._store(out, value, "mask"))

    def _matmul_body(self) -> None:
        dot = self.plan.dot
        assert dot is not None
        rank = self.plan.rank
        m, n = rank - 2, rank - 1
        self.body += [
            "# tiles in groups of GROUP_M rows, so neighbouring programs share operands in L2",
            "pid = tl.program_id(axis=0)",
            *(["pid_b = tl.program_id(axis=1)"] if rank == 3 else []),
            f"num_pid_m = tl.cdiv(n{m}, BLOCK_M)",
            f"num_pid_n = tl.cdiv(n{n}, BLOCK_N)",
            "num_pid_in_group = GROUP_M * num_pid_n",
            "first_pid_m = (pid // num_pid_in_group) * GROUP_M",
            "group_size_m = tl.minimum(num_pid_m - first_pid_m, GROUP_M)",
            "pid_m = first_pid_m + (pid % num_pid_in_group) % group_size_m",
            "pid_n = (pid % num_pid_in_group) // group_size_m",
            "offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)",
            "offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)",
            "offs_k = tl.arange(0, BLOCK_K)",
            "acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)",
            "for k0 in range(0, K, BLOCK_K):",
            INDENT + "k = k0 + offs_k",
        ]
        role_a = {"b": "pid_b", "m": "offs_m[:, None]", "k": "k[None, :]"}
        role_b = {"b": "pid_b", "k": "k[:, None]", "n": "offs_n[None, :]"}
        mask_a = f"(offs_m[:, None] < n{m}) & (k[None, :] < K)"
        mask_b = f"(k[:, None] < K) & (offs_n[None, :] < n{n})"
        for var, operand, roles, mask in (
            ("a", dot.a, role_a, mask_a),
            ("b", dot.b, role_b, mask_b),
        ):
            terms = " + ".join(
                f"{roles[r]} * {operand.source}_s{j}" for j, r in enumerate(operand.roles)
            )
            self.body.append(
                f"{INDENT}{var} = tl.load({operand.source}_ptr + {terms}, mask={mask}, other=0.0)"
            )
        a_src = next(s for s in self.plan.sources if s.name == dot.a.source)
        precision = ', input_precision="ieee"' if a_src.dtype == torch.float32 else ""
        if self.interpreter and a_src.dtype == torch.bfloat16:
            self.body.append(f"{INDENT}# the Triton interpreter has no bf16 tl.dot: widen first")
            self.body.append(f"{INDENT}a = a.to(tl.float32)")
            self.body.append(f"{INDENT}b = b.to(tl.float32)")
        self.body.append(f"{INDENT}acc = tl.dot(a, b, acc{precision})")
        self.body += [
            "# epilogue on the fp32 accumulator",
            *([f"i{rank - 3} = pid_b"] if rank == 3 else []),
            f"i{m} = offs_m[:, None]",
            f"i{n} = offs_n[None, :]",
            f"mask = (i{m} < n{m}) & (i{n} < n{n})",
        ]
        for out in self.plan.outputs:
            value = self.emit(out.value, self.row)
            self.body.append(self._store(out, value, "mask"))

    def _loop(self, comment: str, fill: Any) -> None:
        """A loop over the reduced dims; fill(scope) emits its body into scope.lines."""
        if self.mode == "persistent":
            if "r" not in self.lanes.done:
                self.lanes.done.add("r")
                self.body += [f"r = tl.arange(0, {self.block})", "rmask = r < R"]
                self._decompose("r", list(self.plan.reduced), self.body)
            self.body.append(f"# {comment.replace('pass', 'step', 1)} (row held in registers)")
            fill(self.lanes)
            return
        loop = Scope()
        loop.lines.append(f"r = r0 + tl.arange(0, {self.block})")
        loop.lines.append("rmask = kmask & (r < R)[None, :]" if self.tiled else "rmask = r < R")
        self._decompose("r", list(self.plan.reduced), loop.lines)
        if self.tiled:
            loop.lines += [f"i{d} = i{d}[None, :]" for d in self.plan.reduced]
        fill(loop)
        self.body.append(f"# {comment}")
        if self.mode == "partial":
            self.body.append(
                f"for r0 in range(split * CHUNK, split * CHUNK + CHUNK, {self.block}):"
            )
        else:
            self.body.append(f"for r0 in range(0, R, {self.block}):")
        self.body.extend(INDENT + line for line in loop.lines)

    def _accumulate(self, red: Value, loop: Scope) -> None:
        v = self.emit(red.operands[0], loop)
        acc = f"acc_{red.name}"
        op = red.red_op
        if op == "sum":
            loop.lines.append(f"{acc} += tl.where(rmask, {v}, 0)")
        elif op in ("max", "min"):
            fn, pad = (
                ("tl.maximum", '-float("inf")') if op == "max" else ("tl.minimum", 'float("inf")')
            )
            loop.lines.append(f"{acc} = {fn}({acc}, tl.where(rmask, {v}, {pad}))")
        elif op == "prod":
            loop.lines.append(f"{acc} *= tl.where(rmask, {v}, 1.0)")
        else:
            pad = '-float("inf")' if op == "argmax" else 'float("inf")'
            cmp = ">" if op == "argmax" else "<"
            loop.lines += [
                f"cand_{red.name} = tl.where(rmask, {v}, {pad})",
                f"take_{red.name} = cand_{red.name} {cmp} {acc}",
                f"{acc}_idx = tl.where(take_{red.name}, r, {acc}_idx)",
                f"{acc} = tl.where(take_{red.name}, cand_{red.name}, {acc})",
            ]

    def _acc_init(self, red: Value) -> list[str]:
        acc, op = f"acc_{red.name}", red.red_op
        x = red.operands[0]
        dtype = "tl.float32" if x.dtype.is_floating_point or op != "sum" else "tl.int64"
        init = {
            "sum": "0",
            "max": '-float("inf")',
            "min": 'float("inf")',
            "prod": "1.0",
            "argmax": '-float("inf")',
            "argmin": 'float("inf")',
        }[op]
        shape = "[BLOCK_K, BLOCK_R]" if self.tiled else "[BLOCK_R]"
        lines = [f"{acc} = tl.full({shape}, {init}, {dtype})"]
        if op in ("argmax", "argmin"):
            lines.append(f"{acc}_idx = tl.zeros({shape}, dtype=tl.int32)")
        return lines

    def _finish(self, red: Value) -> list[str]:
        acc, op = f"acc_{red.name}", red.red_op
        axis = self.axis
        if op == "sum":
            return [f"{red.name} = tl.sum({acc}, {axis})"]
        if op in ("max", "min"):
            return [f"{red.name} = tl.{op}({acc}, {axis})"]
        if op == "prod":
            keep = ", keep_dims=True" if self.tiled else ""
            return [f"{red.name} = tl.reduce({acc}, {1 if self.tiled else 0}, _multiply{keep})"]
        best = "tl.max" if op == "argmax" else "tl.min"
        return [
            f"best_{red.name} = {best}({acc}, {axis})",
            f"{red.name} = tl.min(tl.where({acc} == best_{red.name}, {acc}_idx, R), {axis})",
        ]

    def _combine(self) -> None:
        """Each reduction from the SPLIT partial results of its row."""
        self.body += [f"s = tl.arange(0, {self.block})", "smask = s < SPLIT"]
        for red in self.plan.reductions:
            pad = {"sum": "0.0", "max": '-float("inf")', "min": 'float("inf")'}[red.red_op]
            part = f"tl.load(part_{red.name}_ptr + row * SPLIT + s, mask=smask, other={pad})"
            self.body.append(f"{red.name} = tl.{red.red_op}({part}, axis=0)")
            self.row.done.add(red.name)

    def _reduction_body(self) -> None:
        plan = self.plan
        kept = [d for d in range(plan.rank) if d not in plan.reduced]
        if self.tiled:
            self.body += [
                "rows = tl.program_id(axis=0) * BLOCK_K + tl.arange(0, BLOCK_K)",
                "kmask = (rows < n_rows)[:, None]",
            ]
            self._decompose("rows", kept, self.body)
            self.body += [f"i{d} = i{d}[:, None]" for d in kept]
        else:
            self.body.append("row = tl.program_id(axis=0)")
            self._decompose("row", kept, self.body)
        if self.mode == "partial":
            self.body.append("split = tl.program_id(axis=1)")
        if self.mode == "combine":
            self._combine()
            for out in plan.outputs:
                self.body.append(self._store(out, self.emit(out.value, self.row), None))
            return
        passes = reduction_passes(plan.reductions)
        for number in sorted(set(passes.values())):
            group = [r for r in plan.reductions if passes[r.name] == number]
            names = ", ".join(f"{r.red_op}({r.operands[0].name})" for r in group)

            def fill(loop: Scope, group: list[Value] = group) -> None:
                for red in group:
                    self._accumulate(red, loop)

            # initialise accumulators first, then emit the loop (row values land above it)
            inits = [line for red in group for line in self._acc_init(red)]
            mark = len(self.body)
            self._loop(f"pass {number}: {names}", fill)
            self.body[mark:mark] = inits
            for red in group:
                self.body.extend(self._finish(red))
                self.row.done.add(red.name)
        if self.mode == "partial":
            self.body += [
                f"tl.store(part_{red.name}_ptr + row * SPLIT + split, {red.name})"
                for red in plan.reductions
            ]
            return
        rows = [o for o in plan.outputs if o.value.level == ROW]
        fulls = [o for o in plan.outputs if o.value.level == FULL]
        for out in rows:
            mask = "kmask" if self.tiled else None
            self.body.append(self._store(out, self.emit(out.value, self.row), mask))
        if fulls:

            def store(loop: Scope) -> None:
                for out in fulls:
                    loop.lines.append(self._store(out, self.emit(out.value, loop), "rmask"))

            self._loop(f"pass {len(set(passes.values())) + 1}: normalise and store", store)

    # ---- signature and launch ------------------------------------------------------
    def params(self) -> list[tuple[str, str]]:
        """(kernel parameter, host expression) in launch order."""
        plan = self.plan
        out: list[tuple[str, str]] = [(f"{s.name}_ptr", s.name) for s in plan.sources]
        out += [(f"{o.name}_ptr", o.name) for o in plan.outputs]
        out += [(name, host if name != "R" else "R") for name, host in plan.scalars]
        if plan.family == "pointwise":
            out.append(("n_elements", "n_elements"))
        elif plan.family == "reduction" and not any(name == "R" for name, _ in plan.scalars):
            out.append(("R", "R"))
        if self.tiled:
            out.append(("n_rows", "n_rows"))
        if self.mode in ("partial", "combine"):
            out += [(f"part_{r.name}_ptr", f"part_{r.name}") for r in plan.reductions]
            out += [("SPLIT", "SPLIT"), ("CHUNK", "CHUNK")]
        if not plan.flat:
            out += [(f"n{d}", size) for d, size in enumerate(plan.f_sizes)]
            for s in plan.sources:
                out += [(f"{s.name}_s{j}", f"{s.name}.stride({j})") for j in range(s.rank)]
            for o in plan.outputs:
                out += [(f"{o.name}_s{j}", f"{o.name}.stride({j})") for j in range(len(o.shape))]
        return out

    def kernel(self) -> str:
        if self.plan.family == "matmul":
            self._matmul_body()
        elif self.single_scope:
            self._pointwise_body()
        else:
            self._reduction_body()
        names = [p for p, _ in self.params()] + [f"{c}: tl.constexpr" for c in self.constexprs]
        head = [
            "@triton.jit",
            f"def {self.name}(",
            *(f"{INDENT}{n}," for n in names),
            "):",
        ]
        return "\n".join(head + [INDENT + line for line in self.body])

    def uses_multiply(self) -> bool:
        return any(r.red_op == "prod" for r in self.plan.reductions) or self.plan.has_cumprod
