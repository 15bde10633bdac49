"""Lowering view ops as index arithmetic: each op's node becomes a load of an input read
through index expressions (index_views.py writes them), a mask, or a `cat` of pieces.

The op table calls these with the walk's state (a `LoweringContext`); an index view whose
shape does not line up with the kernel's iteration space stays in `lw.index_views` for later
views to compose with.
"""

from __future__ import annotations

from typing import Any

from torch.fx import Node as FxNode

from agents.builtin import index_views as iv
from agents.builtin.fx_nodes import permutation, shape_of, traced_size
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.values import CannotLower, NotLowered, Value

INDEX_VIEWS = {"select", "slice", "narrow", "diagonal", "diagonal_copy"}
SPLIT_VIEWS = {"split", "split_with_sizes"}
TRIANGLES = {"tril": True, "triu": False}


def load_view(lw: LoweringContext, arg: FxNode) -> tuple[Value, list[str]] | None:
    """(load, index expressions in the view's dims) of a graph input or a view of one."""
    if arg.name in lw.index_views:
        return lw.index_views[arg.name]
    v = lw.values.get(arg.name)
    if not isinstance(v, Value) or v.kind != "load" or v.index is not None:
        return None
    if v.flipped or v.regrouped:
        return None
    return v, iv.whole(len(shape_of(arg)))


def index_view(lw: LoweringContext, node: FxNode, op: str) -> Any:
    """select/slice/narrow/reshape of an input: a load whose index does the view.

    A view whose shape does not line up with F stays an index view that later views
    compose with; it is only an error if a kernel value needs it.
    """
    viewed = load_view(lw, node.args[0])
    if viewed is None:
        return NotLowered(op)
    base, exprs = viewed
    args, in_shape = node.args, shape_of(node.args[0])
    rank = len(in_shape)
    if op in ("diagonal", "diagonal_copy"):
        given = list(args[1:])
        offset, dim1, dim2 = given + [0, 0, 1][len(given) :]
        old = iv.diagonal_dims(rank, offset, dim1, dim2)
    elif op in INDEX_VIEWS:
        dim = (args[1] if len(args) > 1 else 0) % rank
        start = args[2] if len(args) > 2 and args[2] is not None else 0
        at = _position(lw, start, in_shape[dim], clamp=op != "select")
        step = args[4] if op == "slice" and len(args) > 4 else 1
        if at is None or not isinstance(step, int):
            return NotLowered(op)
        old = (
            iv.select_dims(rank, dim, at) if op == "select" else iv.slice_dims(rank, dim, at, step)
        )
    else:
        old = iv.reshape_dims(in_shape, shape_of(node), lw.size_text, traced_size)
        if old is None:
            return NotLowered(op)
    lw.index_views[node.name] = (base, iv.compose(exprs, old))
    return view_load(lw, node, op)


def view_load(lw: LoweringContext, node: FxNode, op: str) -> Any:
    """The load of an index view, once its shape lines up with F."""
    base, exprs = lw.index_views[node.name]
    dims = lw.align(shape_of(node))
    if dims is None:
        return NotLowered(op)
    return lw.indexed_load(base, dims, iv.materialize(exprs, dims))


def permuted_view(lw: LoweringContext, node: FxNode, op: str) -> bool:
    """Record a permute of an input (or of an index view) as an index view, so a
    reshape after it still reads the input; False when it permutes a computed value."""
    viewed = load_view(lw, node.args[0])
    if viewed is None:
        return False
    perm = permutation(node, op, len(shape_of(node)))
    old = [""] * len(perm)
    for k, p in enumerate(perm):
        old[p] = f"{{{k}}}"
    lw.index_views[node.name] = (viewed[0], iv.compose(viewed[1], old))
    return True


def split(lw: LoweringContext, node: FxNode, op: str) -> list[Any]:
    """split/chunk of an input: one slice view per piece, taken by getitem."""
    viewed = load_view(lw, node.args[0])
    in_shape = shape_of(node.args[0])
    dim = (node.args[2] if len(node.args) > 2 else 0) % len(in_shape)
    sizes = [piece.shape[dim] for piece in node.meta["val"]]
    start: int | str | None = 0
    for i, size in enumerate(sizes):
        if viewed is None or start is None:
            break
        old = iv.slice_dims(len(in_shape), dim, start, 1)
        lw.index_views[f"{node.name}#{i}"] = (viewed[0], iv.compose(viewed[1], old))
        text = lw.size_text(size)
        start = None if text is None else text if start == 0 else f"{start} + {text}"
    return [NotLowered(op)] * len(sizes)


def _position(lw: LoweringContext, at: Any, size: Any, clamp: bool) -> int | str | None:
    """A static start or index, counted from the end when negative (as kernel source
    for a symbolic size); None when the position itself is not static."""
    if not isinstance(at, int):
        return None
    if isinstance(size, int):
        at = at + size if at < 0 else at
        return min(max(at, 0), size) if clamp else at
    if at >= 0:
        return at
    text = lw.size_text(size)
    return None if text is None else f"({text} - {-at})"


def diag_embed(lw: LoweringContext, node: FxNode, op: str) -> Value:
    """diag_embed(x): x's last dim read along the new row, kept where row == column."""
    viewed = load_view(lw, node.args[0])
    if viewed is None or tuple(node.args[1:]) not in ((), (0,), (0, -2, -1)):
        raise CannotLower(op)
    base, exprs = viewed
    dims = lw.align(shape_of(node))
    if dims is None:
        raise CannotLower(op)
    rank = len(shape_of(node.args[0]))
    load = lw.indexed_load(base, (*dims[:rank], None), iv.materialize(exprs, dims[:rank]))
    row, column = ("0" if d is None else f"i{d}" for d in dims[-2:])
    lw.uses_indices = True
    val = node.meta["val"]
    value = lw.make(node.name, shape_of(node), val.dtype, iv.on_diagonal, [load, row, column])
    value.dims = dims  # the mask walks the column too
    value.level = lw.level(dims, [load])
    return value


def cat(lw: LoweringContext, node: FxNode, op: str) -> Value:
    """cat of inputs (or views of them) and constants: each piece read at the cat's
    index shifted into it, the pieces chosen by where that index falls."""
    shape = shape_of(node)
    dim = (node.args[1] if len(node.args) > 1 else 0) % len(shape)
    dims = lw.align(shape)
    if dims is None or dims[dim] is None:
        raise CannotLower(op)
    pieces: list[Any] = []
    ends: list[str] = []
    start = "0"
    for piece in node.args[0]:
        size = lw.size_text(shape_of(piece)[dim])
        if size is None:
            raise CannotLower(op)
        pieces.append(_cat_piece(lw, piece, dims, dim, start, size, op))
        start = size if start == "0" else f"{start} + {size}"
        ends.append(start)
    lw.uses_indices = True
    formula = iv.pieces_formula(f"i{dims[dim]}", ends)
    value = lw.make(node.name, shape, node.meta["val"].dtype, formula, pieces)
    value.dims, value.level = dims, lw.level(dims, pieces)
    return value


def _cat_piece(
    lw: LoweringContext,
    piece: FxNode,
    dims: tuple[int | None, ...],
    dim: int,
    start: str,
    size: str,
    op: str,
) -> Value:
    viewed = load_view(lw, piece)
    if viewed is not None:
        base, exprs = viewed
        old = iv.shifted_dims(len(dims), dim, start, size)
        return lw.indexed_load(base, dims, iv.materialize(iv.compose(exprs, old), dims))
    value = lw.values.get(piece.name)
    if isinstance(value, Value) and value.kind == "const":
        return value
    raise CannotLower(op)


def triangle(lw: LoweringContext, node: FxNode, op: str) -> Value:
    """tril/triu: x where the column minus the row is on the kept side of the diagonal."""
    x = lw.operand(node, node.args[0], 0)
    if not isinstance(x, Value) or x.flipped or x.regrouped or len(x.dims) < 2:
        raise CannotLower(op)
    diagonal = node.args[1] if len(node.args) > 1 else node.kwargs.get("diagonal", 0)
    if not isinstance(diagonal, int):
        raise CannotLower(op)
    row, column = ("0" if d is None else f"i{d}" for d in x.dims[-2:])
    lw.uses_indices = True
    formula = iv.triangle(TRIANGLES[op])
    val = node.meta["val"]
    return lw.make(node.name, shape_of(node), val.dtype, formula, [x, row, column, diagonal])
