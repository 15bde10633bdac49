"""Paired statistics: two dependent reductions that one pass over a row gathers together.

A Welford statistic is sum(x) with the centred sum of squares sum((x - sum(x) / R) ** 2);
an online-softmax statistic is max(x) with sum(exp(x - max(x))). This module finds such
pairs among a plan's reductions and writes their Triton lines: the per-lane accumulators,
one update step, the merge along the row, and the merge of per-chunk partial results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.builtin.kernel_writer import LANE_ZEROS, LANES, NEG_INF, ROW_AXIS
from agents.builtin.pointwise_ops import POINTWISE
from agents.builtin.values import Value


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


def statistic_init(stat: Statistic) -> list[str]:
    """The per-lane accumulators of a statistic, before its pass."""
    f, s = stat.first.name, stat.second.name
    if stat.kind == "welford":
        return [
            "# per lane: count, mean and sum of squared deviations",
            f"count_{f} = {LANE_ZEROS}",
            f"acc_{f} = {LANE_ZEROS}",
            f"acc_{s} = {LANE_ZEROS}",
        ]
    return [
        "# per lane: running maximum and sum of exp(x - maximum)",
        f"acc_{f} = tl.full({LANES}, {NEG_INF}, tl.float32)",
        f"acc_{s} = {LANE_ZEROS}",
    ]


def statistic_step(stat: Statistic, x: str) -> list[str]:
    """One step of a statistic over the block `x`, per lane: Welford's update or the online
    softmax's."""
    f, s = stat.first.name, stat.second.name
    if stat.kind == "welford":
        return [
            f"count_{f} += tl.where(rmask, 1.0, 0.0)",
            f"delta_{f} = tl.where(rmask, {x} - acc_{f}, 0.0)",
            # fast (2-ulp) division: an IEEE divide per element costs as much as the load
            f"acc_{f} += tl.fdiv(delta_{f}, tl.maximum(count_{f}, 1.0))",
            f"acc_{s} += tl.where(rmask, delta_{f} * ({x} - acc_{f}), 0.0)",
        ]
    return [
        f"cand_{f} = tl.where(rmask, {x}, {NEG_INF})",
        f"max_{f} = tl.maximum(acc_{f}, cand_{f})",
        "# rescale the running sum to the new maximum (base 0 while a lane has no value)",
        f"base_{f} = tl.where(max_{f} == {NEG_INF}, 0.0, max_{f})",
        f"acc_{s} = acc_{s} * tl.exp(acc_{f} - base_{f}) + tl.exp(cand_{f} - base_{f})",
        f"acc_{f} = max_{f}",
    ]


def statistic_finish(stat: Statistic) -> list[str]:
    """The lanes' accumulators merged along the row: sets both reductions' columns."""
    f, s = stat.first.name, stat.second.name
    if stat.kind == "welford":
        return _welford_merge(stat, f"count_{f}", f"acc_{f}", f"acc_{s}")
    return _softmax_merge(stat, f"acc_{f}", f"acc_{s}")


def statistic_from_parts(stat: Statistic, part: Callable[[Value, str], str]) -> list[str]:
    """A statistic merged from the SPLIT chunks' partial results; part(reduction, pad) is
    the expression that loads one reduction's partials."""
    f = stat.first.name
    if stat.kind == "softmax":
        return [
            f"max_{f} = {part(stat.first, NEG_INF)}",
            f"sum_{f} = {part(stat.second, '0.0')}",
            *_softmax_merge(stat, f"max_{f}", f"sum_{f}"),
        ]
    return [
        "# elements in each chunk (the last may be short)",
        f"count_{f} = tl.minimum(tl.maximum(R - s * CHUNK, 0), CHUNK).to(tl.float32)",
        f"mean_parts_{f} = {part(stat.first, '0.0')} / tl.maximum(count_{f}, 1.0)",
        f"m2_parts_{f} = {part(stat.second, '0.0')}",
        *_welford_merge(stat, f"count_{f}", f"mean_parts_{f}", f"m2_parts_{f}"),
    ]


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
