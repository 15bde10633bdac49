"""The Triton lines of a reduction pass's accumulators, one item (a reduction, or a paired
statistic's two) at a time: per-lane initial values, one step over a block, the merge of
the lanes along the row, and the merge of the SPLIT chunks' partial results."""

from __future__ import annotations

from agents.builtin.kernel_writer import LANES, NEG_INF, ROW_AXIS
from agents.builtin.paired_statistics import (
    Statistic,
    statistic_finish,
    statistic_from_parts,
    statistic_init,
    statistic_step,
)
from agents.builtin.reduction_schedule import Item
from agents.builtin.values import Value

POS_INF = 'float("inf")'
IDENTITY = {"sum": "0", "max": NEG_INF, "min": POS_INF, "prod": "1.0"}
IDENTITY |= {"argmax": NEG_INF, "argmin": POS_INF}


def accumulated(item: Item) -> Value:
    """The value an item's step reads from each block."""
    return item.x if isinstance(item, Statistic) else item.operands[0]


def describe(item: Item) -> str:
    """What a pass accumulates, for its comment: `sum(x)`, or a statistic's pair."""
    if isinstance(item, Statistic):
        how = "Welford" if item.kind == "welford" else "online softmax"
        return f"{describe(item.first)} and {describe(item.second)} together ({how})"
    return f"{item.red_op}({item.operands[0].name})"


def accumulator_init(item: Item) -> list[str]:
    """The per-lane accumulators, set before the pass."""
    if isinstance(item, Statistic):
        return statistic_init(item)
    acc, op = f"acc_{item.name}", item.red_op
    x = item.operands[0]
    dtype = "tl.float32" if x.dtype.is_floating_point or op != "sum" else "tl.int64"
    lines = [f"{acc} = tl.full({LANES}, {IDENTITY[op]}, {dtype})"]
    if op in ("argmax", "argmin"):
        lines.append(f"{acc}_idx = tl.zeros({LANES}, dtype=tl.int32)")
    return lines


def accumulator_step(item: Item, x: str) -> list[str]:
    """One step over the block `x` (the item's accumulated value, masked by rmask)."""
    if isinstance(item, Statistic):
        return statistic_step(item, x)
    acc, op = f"acc_{item.name}", item.red_op
    if op == "sum":
        return [f"{acc} += tl.where(rmask, {x}, 0)"]
    if op in ("max", "min"):
        fn = "tl.maximum" if op == "max" else "tl.minimum"
        return [f"{acc} = {fn}({acc}, tl.where(rmask, {x}, {IDENTITY[op]}))"]
    if op == "prod":
        return [f"{acc} *= tl.where(rmask, {x}, 1.0)"]
    cmp = ">" if op == "argmax" else "<"
    return [
        f"cand_{item.name} = tl.where(rmask, {x}, {IDENTITY[op]})",
        f"take_{item.name} = cand_{item.name} {cmp} {acc}",
        f"{acc}_idx = tl.where(take_{item.name}, r, {acc}_idx)",
        f"{acc} = tl.where(take_{item.name}, cand_{item.name}, {acc})",
    ]


def accumulator_finish(item: Item) -> list[str]:
    """The lanes' partial results reduced along the row into [BLOCK_M, 1] columns."""
    if isinstance(item, Statistic):
        return statistic_finish(item)
    name, acc, op = item.name, f"acc_{item.name}", item.red_op
    if op == "sum":
        return [f"{name} = tl.sum({acc}, {ROW_AXIS})"]
    if op in ("max", "min"):
        return [f"{name} = tl.{op}({acc}, {ROW_AXIS})"]
    if op == "prod":
        return [f"{name} = tl.reduce({acc}, 1, _multiply, keep_dims=True)"]
    best = "tl.max" if op == "argmax" else "tl.min"
    return [
        f"best_{name} = {best}({acc}, {ROW_AXIS})",
        f"{name} = tl.min(tl.where({acc} == best_{name}, {acc}_idx, R), {ROW_AXIS})",
    ]


def _partials(red: Value, pad: str) -> str:
    """The SPLIT partial results of `red` for the block's rows, `pad` where masked."""
    return f"tl.load(part_{red.name}_ptr + s * n_rows + rows, mask=smask, other={pad})"


def merged_from_parts(item: Item) -> list[str]:
    """The item's [BLOCK_M, 1] columns merged from the SPLIT chunks' partial results."""
    if isinstance(item, Statistic):
        return statistic_from_parts(item, _partials)
    pad = {"sum": "0.0", "max": NEG_INF, "min": POS_INF}[item.red_op]
    return [f"{item.name} = tl.{item.red_op}({_partials(item, pad)}, {ROW_AXIS})"]
