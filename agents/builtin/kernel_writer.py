"""Write the Triton kernel for a fused plan.

Pointwise plans get the shape of the Triton vector-add tutorial: one program per block
of output elements. Reduction plans give each program BLOCK_M rows (points of the kept
dims) as a [BLOCK_M, BLOCK_R] block: the persistent kernel holds whole rows in registers,
so every pass reuses what was loaded once; the looped kernel walks R in BLOCK_R steps, one
loop per dependent reduction plus a last loop that stores full-size outputs; the partial
and combine kernels cut R into chunks reduced by separate programs, then merge them. The
host picks BLOCK_M: one row, a pack of short rows, or (rows along the innermost dim)
neighbouring rows, so loads stay coalesced. Dependent pairs that one pass can gather
(sum and centred sum of squares; max and sum of exp) become a Welford or online-softmax
statistic in the looped and split kernels. Matmul plans follow the Triton matmul tutorial
with the pointwise epilogue applied to the fp32 accumulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch

from agents.builtin.pointwise_ops import POINTWISE
from agents.builtin.values import FULL, ROW, Num, Output, Plan, Value

INDENT = "    "
ROW_AXIS = "axis=1, keep_dims=True"  # reduce a [BLOCK_M, BLOCK_R] block to its row column
NEG_INF = '-float("inf")'
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


@dataclass(frozen=True)
class Statistic:
    """Two dependent reductions that one pass over the row can gather together.

    welford: `first` = sum(x) and `second` = sum((x - first / R) ** 2), kept per lane as a
    running count, mean and sum of squared deviations (Welford's update) and merged with
    Chan's formula. softmax: `first` = max(x) and `second` = sum(exp(x - first)), kept per
    lane as a running maximum and a sum rescaled whenever the maximum grows (online softmax).
    """

    kind: str
    first: Value
    second: Value

    @property
    def x(self) -> Value:
        return self.first.operands[0]


def _operands(v: Any, op: str) -> list[Any] | None:
    """v's operands when v is the pointwise op `op` without options, else None."""
    if isinstance(v, Value) and v.kind == "pw" and v.formula is POINTWISE[op] and not v.options:
        return v.operands
    return None


def _squared(v: Any) -> Any:
    """c when v is c squared (square, pow 2 or c * c), else None."""
    for op in ("square", "pow", "mul"):
        args = _operands(v, op)
        if args is None:
            continue
        if op == "square" or (op == "pow" and args[1] == 2) or (op == "mul" and args[0] is args[1]):
            return args[0]
    return None


def _reduces(v: Any, red_op: str, x: Any) -> bool:
    return (
        isinstance(v, Value)
        and v.kind == "red"
        and v.red_op == red_op
        and v.operands[0] is x
        and v.dtype.is_floating_point
    )


def _statistic(red: Value) -> Statistic | None:
    """The pair `red` completes as its second reduction, if any."""
    if red.red_op != "sum":
        return None
    term = red.operands[0]
    centered = _operands(_squared(term), "sub")
    if centered is not None and len(centered) == 2:
        x, mean = centered
        quotient = _operands(mean, "div")
        if quotient is not None and quotient[1:] == ["R"] and _reduces(quotient[0], "sum", x):
            return Statistic("welford", quotient[0], red)
    exp = _operands(term, "exp")
    shifted = _operands(exp[0], "sub") if exp is not None else None
    if shifted is not None and len(shifted) == 2 and _reduces(shifted[1], "max", shifted[0]):
        return Statistic("softmax", shifted[1], red)
    return None


def statistics(reductions: list[Value]) -> dict[str, Statistic]:
    """The pairs one pass can gather (variance, softmax's sum), keyed by the second's name."""
    pairs: dict[str, Statistic] = {}
    firsts: set[str] = set()
    for red in reductions:
        stat = _statistic(red)
        if stat is not None and stat.first.name not in firsts:
            firsts.add(stat.first.name)
            pairs[red.name] = stat
    return pairs


def reduction_passes(reductions: list[Value], fused: bool = False) -> dict[str, int]:
    """Pass number of each reduction: one more than the reductions its input needs. With
    `fused`, the second reduction of a statistic shares its first's pass."""
    pairs = statistics(reductions) if fused else {}
    memo: dict[str, int] = {}

    def depth(v: Any) -> int:
        if not isinstance(v, Value):
            return 0
        if v.name not in memo:
            if v.name in pairs:
                memo[v.name] = depth(pairs[v.name].first)
            else:
                inner = max((depth(o) for o in v.operands), default=0)
                memo[v.name] = inner + 1 if v.kind == "red" else inner
        return memo[v.name]

    return {r.name: depth(r) for r in reductions}


Item = Value | Statistic


def pass_items(reductions: list[Value], fused: bool) -> list[list[Item]]:
    """The reductions of each pass, in order; with `fused`, a statistic is one item."""
    pairs = statistics(reductions) if fused else {}
    by_first = {stat.first.name: stat for stat in pairs.values()}
    passes = reduction_passes(reductions, fused)
    return [
        [by_first.get(r.name, r) for r in reductions if passes[r.name] == n and r.name not in pairs]
        for n in sorted(set(passes.values()))
    ]


def members(item: Item) -> list[Value]:
    return [item.first, item.second] if isinstance(item, Statistic) else [item]


def _has_scan(plan: Plan) -> bool:
    stack: list[Any] = [o.value for o in plan.outputs]
    seen: set[int] = set()
    while stack:
        v = stack.pop()
        if isinstance(v, Value) and id(v) not in seen:
            seen.add(id(v))
            if v.kind == "scan":
                return True
            stack += [*v.operands, *v.options.values()]
    return False


def splittable(plan: Plan) -> bool:
    """One pass (statistics fused) of floating-point sums, maxima, minima or statistics and
    no scan: each row's R can be cut into chunks reduced apart, then merged."""
    if plan.family != "reduction" or not plan.reductions or _has_scan(plan):
        return False
    groups = pass_items(plan.reductions, fused=True)
    return (
        len(groups) == 1
        and all(isinstance(i, Statistic) or i.red_op in ("sum", "max", "min") for i in groups[0])
        and all(r.dtype.is_floating_point for r in plan.reductions)
    )


def _welford_merge(stat: Statistic, counts: str, means: str, m2s: str) -> list[str]:
    """Chan's merge along the row of (count, mean, squared deviations) parts: sets both sums."""
    f, s = stat.first.name, stat.second.name
    return [
        f"{f} = tl.sum({counts} * {means}, {ROW_AXIS})",
        f"mean_{f} = {f} / tl.maximum(tl.sum({counts}, {ROW_AXIS}), 1.0)",
        f"dev_{f} = {means} - mean_{f}",
        f"{s} = tl.sum({m2s} + {counts} * dev_{f} * dev_{f}, {ROW_AXIS})",
    ]


def _softmax_merge(stat: Statistic, maxes: str, sums: str) -> list[str]:
    """The online-softmax merge along the row of (maximum, sum of exp(x - maximum)) parts."""
    f, s = stat.first.name, stat.second.name
    return [
        f"{f} = tl.max({maxes}, {ROW_AXIS})",
        f"base_{f} = tl.where({f} == {NEG_INF}, 0.0, {f})",
        f"{s} = tl.sum({sums} * tl.exp({maxes} - base_{f}), {ROW_AXIS})",
    ]


def _describe(item: Item) -> str:
    if isinstance(item, Statistic):
        how = "Welford" if item.kind == "welford" else "online softmax"
        return f"{_describe(item.first)} and {_describe(item.second)} together ({how})"
    return f"{item.red_op}({item.operands[0].name})"


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
        # reductions: persistent (whole rows in one block, loaded once), looped (walk R in
        # BLOCK_R steps), partial (one CHUNK of R per program) or combine (merge the
        # partials, then store the chunk's full-size outputs)
        self.mode = mode
        self.name = kernel_name
        self.constexprs = constexprs
        self.body: list[str] = []
        self.row = Scope()
        self.lanes = Scope(lines=self.body)  # persistent mode: one scope for every pass
        self.single_scope = plan.family != "reduction"  # no per-row values

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
        if self.single_scope:
            load = f"tl.load({ptr}, mask=mask)"
        elif in_loop:
            load = f"tl.load({ptr}, mask=rmask, other=0.0)"
        elif offset == "0":
            load = f"tl.load({ptr})"  # one value shared by every row
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
            shape = "[BLOCK_SIZE]"
            if reduction:
                shape = "[BLOCK_M, 1]" if out.value.level == ROW else "[BLOCK_M, BLOCK_R]"
            value = f"tl.full({shape}, {value}, tl.float32)"
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
        precision = ""
        if a_src.dtype == torch.float32:
            # fp32 operands: three TF32 tensor-core products (hi*hi + hi*lo + lo*hi) keep
            # fp32-level accuracy at tensor-core speed; the interpreter computes exactly
            mode = "ieee" if self.interpreter else "tf32x3"
            self.body.append(f"{INDENT}# fp32 operands: input_precision={mode!r}")
            precision = f", input_precision={mode!r}"
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
        """A walk over the reduced dims; fill(scope) emits its body into scope.lines.

        The persistent kernel holds whole rows, so a walk is one step over registers; the
        others loop over R (the partial and combine kernels: over their chunk) in BLOCK_R
        steps. r is a [1, BLOCK_R] row of positions, rmask covers [BLOCK_M, BLOCK_R].
        """
        reduced = list(self.plan.reduced)
        if self.mode == "persistent":
            if "r" not in self.lanes.done:
                self.lanes.done.add("r")
                self.body += ["r = tl.arange(0, BLOCK_R)[None, :]", "rmask = row_mask & (r < R)"]
                self._decompose("r", reduced, self.body)
            self.body.append(f"# {comment.replace('pass', 'step', 1)} (rows held in registers)")
            fill(self.lanes)
            return
        loop = Scope()
        loop.lines += ["r = r0 + tl.arange(0, BLOCK_R)[None, :]", "rmask = row_mask & (r < R)"]
        self._decompose("r", reduced, loop.lines)
        fill(loop)
        self.body.append(f"# {comment}")
        if self.mode in ("partial", "combine"):
            self.body.append("for r0 in range(split * CHUNK, split * CHUNK + CHUNK, BLOCK_R):")
        else:
            self.body.append("for r0 in range(0, R, BLOCK_R):")
        self.body.extend(INDENT + line for line in loop.lines)

    def _accumulate(self, item: Item, loop: Scope) -> None:
        if isinstance(item, Statistic):
            self._gather_statistic(item, loop)
            return
        red = item
        v = self.emit(red.operands[0], loop)
        acc = f"acc_{red.name}"
        op = red.red_op
        if op == "sum":
            loop.lines.append(f"{acc} += tl.where(rmask, {v}, 0)")
        elif op in ("max", "min"):
            fn, pad = ("tl.maximum", NEG_INF) if op == "max" else ("tl.minimum", 'float("inf")')
            loop.lines.append(f"{acc} = {fn}({acc}, tl.where(rmask, {v}, {pad}))")
        elif op == "prod":
            loop.lines.append(f"{acc} *= tl.where(rmask, {v}, 1.0)")
        else:
            pad = NEG_INF if op == "argmax" else 'float("inf")'
            cmp = ">" if op == "argmax" else "<"
            loop.lines += [
                f"cand_{red.name} = tl.where(rmask, {v}, {pad})",
                f"take_{red.name} = cand_{red.name} {cmp} {acc}",
                f"{acc}_idx = tl.where(take_{red.name}, r, {acc}_idx)",
                f"{acc} = tl.where(take_{red.name}, cand_{red.name}, {acc})",
            ]

    def _gather_statistic(self, stat: Statistic, loop: Scope) -> None:
        """One step of a statistic, per lane: Welford's update or the online softmax's."""
        x = self.emit(stat.x, loop)
        f, s = stat.first.name, stat.second.name
        if stat.kind == "welford":
            loop.lines += [
                f"count_{f} += tl.where(rmask, 1.0, 0.0)",
                f"delta_{f} = tl.where(rmask, {x} - acc_{f}, 0.0)",
                # fast (2-ulp) division: an IEEE divide per element costs as much as the load
                f"acc_{f} += tl.fdiv(delta_{f}, tl.maximum(count_{f}, 1.0))",
                f"acc_{s} += tl.where(rmask, delta_{f} * ({x} - acc_{f}), 0.0)",
            ]
            return
        loop.lines += [
            f"cand_{f} = tl.where(rmask, {x}, {NEG_INF})",
            f"max_{f} = tl.maximum(acc_{f}, cand_{f})",
            "# rescale the running sum to the new maximum (base 0 while a lane has no value)",
            f"base_{f} = tl.where(max_{f} == {NEG_INF}, 0.0, max_{f})",
            f"acc_{s} = acc_{s} * tl.exp(acc_{f} - base_{f}) + tl.exp(cand_{f} - base_{f})",
            f"acc_{f} = max_{f}",
        ]

    def _acc_init(self, item: Item) -> list[str]:
        shape = "[BLOCK_M, BLOCK_R]"
        zeros = f"tl.zeros({shape}, dtype=tl.float32)"
        if isinstance(item, Statistic):
            f, s = item.first.name, item.second.name
            if item.kind == "welford":
                return [
                    "# per lane: count, mean and sum of squared deviations",
                    f"count_{f} = {zeros}",
                    f"acc_{f} = {zeros}",
                    f"acc_{s} = {zeros}",
                ]
            return [
                "# per lane: running maximum and sum of exp(x - maximum)",
                f"acc_{f} = tl.full({shape}, {NEG_INF}, tl.float32)",
                f"acc_{s} = {zeros}",
            ]
        red = item
        acc, op = f"acc_{red.name}", red.red_op
        x = red.operands[0]
        dtype = "tl.float32" if x.dtype.is_floating_point or op != "sum" else "tl.int64"
        init = {
            "sum": "0",
            "max": NEG_INF,
            "min": 'float("inf")',
            "prod": "1.0",
            "argmax": NEG_INF,
            "argmin": 'float("inf")',
        }[op]
        lines = [f"{acc} = tl.full({shape}, {init}, {dtype})"]
        if op in ("argmax", "argmin"):
            lines.append(f"{acc}_idx = tl.zeros({shape}, dtype=tl.int32)")
        return lines

    def _finish(self, item: Item) -> list[str]:
        """The lanes' partial results reduced along the row into [BLOCK_M, 1] columns."""
        if isinstance(item, Statistic):
            f, s = item.first.name, item.second.name
            if item.kind == "welford":
                return _welford_merge(item, f"count_{f}", f"acc_{f}", f"acc_{s}")
            return _softmax_merge(item, f"acc_{f}", f"acc_{s}")
        red = item
        acc, op = f"acc_{red.name}", red.red_op
        if op == "sum":
            return [f"{red.name} = tl.sum({acc}, {ROW_AXIS})"]
        if op in ("max", "min"):
            return [f"{red.name} = tl.{op}({acc}, {ROW_AXIS})"]
        if op == "prod":
            return [f"{red.name} = tl.reduce({acc}, 1, _multiply, keep_dims=True)"]
        best = "tl.max" if op == "argmax" else "tl.min"
        return [
            f"best_{red.name} = {best}({acc}, {ROW_AXIS})",
            f"{red.name} = tl.min(tl.where({acc} == best_{red.name}, {acc}_idx, R), {ROW_AXIS})",
        ]

    def _combine(self) -> None:
        """Each reduction of the BLOCK_M rows merged from the SPLIT partial results."""
        self.body += ["s = tl.arange(0, BLOCK_S)[None, :]", "smask = row_mask & (s < SPLIT)"]
        (group,) = pass_items(self.plan.reductions, fused=True)
        for item in group:
            self.body += self._merged(item)
            self.row.done.update(r.name for r in members(item))

    def _merged(self, item: Item) -> list[str]:
        def part(red: Value, pad: str) -> str:
            return f"tl.load(part_{red.name}_ptr + s * n_rows + rows, mask=smask, other={pad})"

        if isinstance(item, Value):
            pad = {"sum": "0.0", "max": NEG_INF, "min": 'float("inf")'}[item.red_op]
            return [f"{item.name} = tl.{item.red_op}({part(item, pad)}, {ROW_AXIS})"]
        f = item.first.name
        if item.kind == "softmax":
            return [
                f"max_{f} = {part(item.first, NEG_INF)}",
                f"sum_{f} = {part(item.second, '0.0')}",
                *_softmax_merge(item, f"max_{f}", f"sum_{f}"),
            ]
        return [
            "# elements in each chunk (the last may be short)",
            f"count_{f} = tl.minimum(tl.maximum(R - s * CHUNK, 0), CHUNK).to(tl.float32)",
            f"mean_parts_{f} = {part(item.first, '0.0')} / tl.maximum(count_{f}, 1.0)",
            f"m2_parts_{f} = {part(item.second, '0.0')}",
            *_welford_merge(item, f"count_{f}", f"mean_parts_{f}", f"m2_parts_{f}"),
        ]

    def _reduction_body(self) -> None:
        plan = self.plan
        kept = [d for d in range(plan.rank) if d not in plan.reduced]
        fulls = [o for o in plan.outputs if o.value.level == FULL]
        self.body += [
            "rows = tl.program_id(axis=0) * BLOCK_M + tl.arange(0, BLOCK_M)[:, None]",
            "row_mask = rows < n_rows",
        ]
        self._decompose("rows", kept, self.body)
        if self.mode == "partial" or (self.mode == "combine" and fulls):
            self.body.append("split = tl.program_id(axis=1)")
        if self.mode == "combine":
            self._combine()
            passes = 1
        else:
            passes = self._reduction_passes()
        if self.mode == "partial":
            self.body += [
                f"tl.store(part_{r.name}_ptr + split * n_rows + rows, {r.name}, mask=row_mask)"
                for r in plan.reductions
            ]
            return
        # with full-size outputs the combine kernel runs per chunk: its first chunk stores rows
        row_mask = "row_mask & (split == 0)" if self.mode == "combine" and fulls else "row_mask"
        for out in plan.outputs:
            if out.value.level == ROW:
                self.body.append(self._store(out, self.emit(out.value, self.row), row_mask))
        if fulls:

            def store(loop: Scope) -> None:
                for out in fulls:
                    loop.lines.append(self._store(out, self.emit(out.value, loop), "rmask"))

            what = "this chunk" if self.mode == "combine" else "the rows"
            self._loop(f"pass {passes + 1}: normalise and store {what}", store)

    def _reduction_passes(self) -> int:
        """The loops (or register steps) that compute the reductions; returns their count.

        The persistent kernel reduces registers, so it keeps statistics as two steps; the
        others gather each statistic in one pass over memory."""
        groups = pass_items(self.plan.reductions, fused=self.mode != "persistent")
        for number, group in enumerate(groups, 1):
            names = ", ".join(_describe(item) for item in group)

            def fill(loop: Scope, group: list[Item] = group) -> None:
                for item in group:
                    self._accumulate(item, loop)

            # initialise accumulators first, then emit the loop (row values land above it)
            inits = [line for item in group for line in self._acc_init(item)]
            mark = len(self.body)
            self._loop(f"pass {number}: {names}", fill)
            self.body[mark:mark] = inits
            for item in group:
                self.body.extend(self._finish(item))
                self.row.done.update(r.name for r in members(item))
        return len(groups)

    # ---- signature and launch ------------------------------------------------------
    def params(self) -> list[tuple[str, str]]:
        """(kernel parameter, host expression) in launch order."""
        plan = self.plan
        out: list[tuple[str, str]] = [(f"{s.name}_ptr", s.name) for s in plan.sources]
        out += [(f"{o.name}_ptr", o.name) for o in plan.outputs]
        out += [(name, host if name != "R" else "R") for name, host in plan.scalars]
        if plan.family == "pointwise":
            out.append(("n_elements", "n_elements"))
        elif plan.family == "reduction":
            if not any(name == "R" for name, _ in plan.scalars):
                out.append(("R", "R"))
            out.append(("n_rows", "n_rows"))
        if self.mode in ("partial", "combine"):
            out += [(f"part_{r.name}_ptr", f"part_{r.name}") for r in plan.reductions]
            out += [("SPLIT", "split"), ("CHUNK", "chunk")]
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
        """Sizes the kernel divides a linear index by (r into the reduced dims; for tiled
        plans also rows into the kept dims): compile-time constants, so // and % compile to
        shifts and multiplies and the loads' contiguity is known."""
        plan = self.plan
        if plan.family != "reduction":
            return set()
        kept = [d for d in range(plan.rank) if d not in plan.reduced]
        divisors = list(plan.reduced[1:]) + (kept[1:] if tiled(plan) else [])
        return {f"n{d}" for d in divisors}

    def uses_multiply(self) -> bool:
        return any(r.red_op == "prod" for r in self.plan.reductions) or self.plan.has_cumprod
