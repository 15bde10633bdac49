"""`gather` along a reduced dim: one indexed load per row, not a pass over the row.

`torch.gather(v, d, index)` with an index of size 1 along d picks, for each row, the
element of v at position index[row]. When d is one of the plan's reduced dims and the
index is a per-row value, that element is v's own computation redone at one position:
every load under v reads at i<d> = index, and reductions (already per row) are reused.
Cross-entropy's log-probability at the target class, `x[row, t] - lse[row]`, becomes a
single extra load of x per row.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from torch.fx import Node as FxNode

from agents.builtin.flips import unflipped
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.values import ROW, CannotLower, Value


def _at(lw: LoweringContext, v: Any, dim: int, index: Value) -> Any:
    """v's computation with F dim `dim` read at the position held by index."""
    if not isinstance(v, Value) or v.kind == "const" or dim not in v.dims:
        return v
    dims = tuple(None if d == dim else d for d in v.dims)
    if v.kind == "load":
        exprs = v.index or tuple("0" if d is None else f"i{d}" for d in v.dims)
        exprs = tuple(re.sub(rf"\bi{dim}\b", index.name, e) for e in exprs)
        # the index is an operand, so the kernel computes it before this load
        return replace(
            v,
            name=lw.fresh(f"{v.name}_at"),
            dims=dims,
            level=lw.level(dims, []),
            index=exprs,
            operands=[index],
        )
    if v.kind != "pw":
        raise CannotLower("gather")  # a scan or the matmul accumulator at one position
    operands = [_at(lw, o, dim, index) for o in v.operands]
    options = {k: _at(lw, o, dim, index) for k, o in v.options.items()}
    return replace(
        v,
        name=lw.fresh(v.name),
        dims=dims,
        level=lw.level(dims, [*operands, *options.values()]),
        operands=operands,
        options=options,
    )


def lower_gather(lw: LoweringContext, node: FxNode) -> Value:
    """gather(v, d, index) where d is reduced and index holds one position per row."""
    v = unflipped(lw, lw.operand(node, node.args[0], 0))
    index = unflipped(lw, lw.operand(node, node.args[2], 2))
    if not isinstance(v, Value) or not isinstance(index, Value) or index.kind == "const":
        raise CannotLower("gather")
    axis = node.args[1] % len(v.dims)
    dim = v.dims[axis]
    same_rows = len(index.dims) == len(v.dims) and all(
        i == axis or d in (None, v.dims[i]) for i, d in enumerate(index.dims)
    )
    if (
        dim not in lw.reduced
        or index.dims[axis] is not None
        or index.level != ROW
        or not same_rows
        or v.regrouped
        or node.kwargs.get("sparse_grad", False)
    ):
        raise CannotLower("gather")
    return replace(_at(lw, v, dim, index), name=node.name)
