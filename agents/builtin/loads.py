"""Reads of the graph's inputs and the views that relabel a value's dims.

An input becomes a load in F when its shape aligns with F (right-aligned, or one value per
row); otherwise it waits, pending, for the permute that makes it align. A view of a value
(unsqueeze, expand, permute, a reshape that only adds or drops ones) relabels its dims;
a real reshape or a view of an input goes to index arithmetic (view_lowering.py), a view of
the matmul's product to the host (matmul_views.py). Group and instance norm read their
input and per-channel parameters in the regrouped space (N, G, C/G, *spatial).
"""

from __future__ import annotations

import re
from typing import Any

from torch.fx import Node as FxNode

from agents.builtin import view_lowering as views
from agents.builtin.fx_nodes import is_one, packet, permutation, shape_of
from agents.builtin.iteration_space import same_shape
from agents.builtin.lowering_state import LoweringState
from agents.builtin.matmul_views import returned_view
from agents.builtin.values import ROW, CannotLower, NotLowered, Source, Value, identity_of


def _align_to_rows(st: LoweringState, shape: tuple[Any, ...]) -> tuple[int | None, ...] | None:
    """The kept dims, for a tensor of exactly their shape (one value per row, e.g. a
    class target); None otherwise."""
    kept = [d for d in range(st.rank) if d not in st.reduced]
    if not st.reduced or not same_shape(shape, tuple(st.f_shape[d] for d in kept)):
        return None
    return tuple(None if is_one(s) else d for s, d in zip(shape, kept, strict=True))


def input_load(st: LoweringState, node: FxNode, host: str) -> Value:
    """A read of a graph input; its dims wait for a permute when it does not align."""
    name = re.sub(r"\W+", "_", host.replace("self.", "")).strip("_")  # self.seq[0].weight
    if name in st.taken or re.fullmatch(r"[inr]\d+|out\d*|rem_.*|acc_.*|pid_.*", name):
        name += "_in"
    val = node.meta["val"]
    st.sources[name] = Source(name, host, val.dim(), val.dtype)
    dims = st.align(shape_of(node))
    if dims is None:
        dims = _align_to_rows(st, shape_of(node))
    value = Value(name, "load", ROW, dims or (), val.dtype, source=name)
    if dims is None:
        value.pending = True
    else:
        value.level = st.level(dims, [])
    return value


def _resolve(st: LoweringState, x: Value, perm: list[int], shape: tuple[Any, ...]) -> bool:
    """Give a pending load the dims that make its permuted view align with F."""
    dims = st.align(shape)
    if dims is None or x.kind != "load":
        return False
    resolved: list[int | None] = [None] * len(perm)
    for i, p in enumerate(perm):
        resolved[p] = dims[i]
    x.dims, x.pending = tuple(resolved), False
    x.level = st.level(x.dims, [])
    return True


def group_channel(st: LoweringState) -> str:
    """The channel of a point of the group space: the group itself for instance norm."""
    return "i1" if is_one(st.f_shape[2]) else "(i1 * n2 + i2)"


def regrouped_load(st: LoweringState, arg: Any, per_channel: bool) -> Value | None:
    """A load in the group space: the input itself, or its per-channel weight/bias."""
    if arg is None:
        return None
    if packet(arg) == "repeat":  # instance norm repeats weights over the batch
        arg = arg.args[0]
    base = st.values[arg.name]
    if not isinstance(base, Value) or base.kind != "load":
        raise CannotLower("group_norm")
    channel = group_channel(st)
    if per_channel:
        # instance norm's weight is one value per row (point of N, C), loaded once
        per_group = None if is_one(st.f_shape[2]) else 2
        dims: tuple[int | None, ...] = (None, 1, per_group) + (None,) * (st.rank - 3)
        index: tuple[str, ...] = (channel,)
    else:
        dims = tuple(range(st.rank))
        index = ("i0", channel, *(f"i{d}" for d in range(3, st.rank)))
    return st.indexed_load(base, dims, index, regrouped=True)


def lower_view(st: LoweringState, node: FxNode, op: str) -> Any:
    """unsqueeze/squeeze/expand/view/reshape/permute of a value: its dims relabelled."""
    if (returned := returned_view(st, node, op)) is not None:
        return returned
    x = st.values[node.args[0].name]
    shape = shape_of(node)
    permutes = op in ("permute", "t", "transpose")
    if permutes and views.permuted_view(st, node, op) and not isinstance(x, Value):
        return views.view_load(st, node, op)  # a permute of an index view
    if not isinstance(x, Value):
        return views.index_view(st, node, op)  # a reshape of an index view, or NotLowered
    if x.regrouped:  # the view back from instance norm's (1, N*C, ...) layout
        original = shape_of(st.group_norm[1]) if st.group_norm else ()
        return x if same_shape(shape, original) else NotLowered(op)
    if op in ("permute", "t", "transpose"):
        perm = permutation(node, op, len(shape))
        if x.pending and not _resolve(st, x, perm, shape):
            return Value(node.name, "pw", ROW, (), x.dtype, pending=True)
        dims = tuple(x.dims[p] for p in perm)
    elif x.pending:
        return views.index_view(st, node, op)  # e.g. a flatten of an input
    elif op == "expand":
        offset = len(shape) - len(x.dims)
        dims = tuple(
            x.dims[i - offset]
            if i >= offset and x.dims[i - offset] is not None
            else (None if is_one(s) else i + st.rank - len(shape))
            for i, s in enumerate(shape)
        )
    else:
        before = [str(s) for s in shape_of(node.args[0]) if not is_one(s)]
        if [str(s) for s in shape if not is_one(s)] != before:
            return views.index_view(st, node, op)  # a real reshape: a load's index arithmetic
        kept = iter(d for d in x.dims if d is not None)
        dims = tuple(None if is_one(s) else next(kept) for s in shape)
    return identity_of(x, node.name, dims)
