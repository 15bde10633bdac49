"""Schedule a reduction plan: which pass each reduction runs in, which dependent pairs one
pass gathers as a paired statistic, whether each row's R can be cut into chunks reduced
apart (split), and whether rows run along the innermost dim (tiled)."""

from __future__ import annotations

from typing import Any

from agents.builtin.paired_statistics import Statistic, statistics
from agents.builtin.values import Plan, Value

# what one pass accumulates: a reduction, or a statistic's two reductions together
Item = Value | Statistic


def tiled(plan: Plan) -> bool:
    """A reduction that keeps the innermost dim: its rows are strided, so tile across them."""
    return plan.family == "reduction" and plan.rank - 1 not in plan.reduced


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
