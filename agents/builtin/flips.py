"""flip as index arithmetic: a value read reversed along some dims of F.

A flipped value's variable holds, at position i<d>, the logical value at n<d>-1-i<d>: loads
take reversed indices and pointwise values rebuild on reoriented operands, or (after a scan,
which cannot walk its dim backwards) the value is stored reversed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from torch.fx import Node as FxNode

from agents.builtin.iteration_space import norm_dims
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.values import CannotLower, Value, identity_of


def reorient(lw: LoweringContext, v: Any, dims: frozenset[int]) -> Any:
    """v's computation with every i<d> (d in dims) read as n<d>-1-i<d>; None if impossible.

    Loads take reversed indices and pointwise values rebuild on reoriented operands;
    values that do not vary along dims stay. A scan cannot walk its dim backwards, and
    reductions and the matmul accumulator are not rebuilt.
    """
    if not isinstance(v, Value) or v.kind == "const":
        return v
    dims = dims & {d for d in v.dims if d is not None}
    if not dims:
        return v
    if v.kind == "load":
        index = v.index or tuple("0" if d is None else f"i{d}" for d in v.dims)
        for d in dims:
            index = tuple(re.sub(rf"\bi{d}\b", f"(n{d} - 1 - i{d})", e) for e in index)
        return replace(v, name=lw.fresh(v.name), index=index)
    if (v.kind == "scan" and not dims & set(lw.reduced)) or v.kind == "pw":
        operands = [reorient(lw, o, dims) for o in v.operands]
        options = {k: reorient(lw, o, dims) for k, o in v.options.items()}
        if any(o is None for o in [*operands, *options.values()]):
            return None
        return replace(v, name=lw.fresh(v.name), operands=operands, options=options)
    return None


def unflipped(lw: LoweringContext, v: Any) -> Any:
    """v with its variable holding the logical value at every position."""
    if not isinstance(v, Value) or not v.flipped:
        return v
    r = reorient(lw, v, v.flipped)
    if r is None:
        raise CannotLower("flip")
    return replace(r, flipped=frozenset())


def common_flip(operands: list[Any]) -> frozenset[int]:
    """The one set of flipped dims the operands share (CannotLower if they differ)."""
    flips = {o.flipped for o in operands if isinstance(o, Value) and o.flipped}
    if len(flips) > 1:
        raise CannotLower("flip")
    return next(iter(flips), frozenset())


def flipped_to(lw: LoweringContext, v: Any, flipped: frozenset[int]) -> Any:
    """An operand whose variable holds the logical value at the flipped positions."""
    if not isinstance(v, Value) or v.flipped == flipped:
        return v
    r = reorient(lw, v, flipped)
    if r is None:
        raise CannotLower("flip")
    return replace(r, flipped=flipped) if r is not v else v


def lower_flip(lw: LoweringContext, node: FxNode) -> Value:
    """flip(x): x's loads read reversed, or (after a scan) x stored reversed."""
    x = lw.operand(node, node.args[0], 0)
    if not isinstance(x, Value) or x.regrouped:
        raise CannotLower("flip")
    axes = norm_dims(node.args[1], len(x.dims))
    dims = frozenset(x.dims[a] for a in axes if x.dims[a] is not None)
    r = reorient(lw, x, dims)
    if r is not None:
        return replace(r, name=node.name, flipped=x.flipped) if r is not x else x
    return identity_of(x, node.name, flipped=x.flipped ^ dims)
