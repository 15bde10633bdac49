"""View ops on a graph input as index arithmetic on its load.

An index view is a source tensor read through per-dim index expressions written in the
view's own logical dims: `{k}` is the index along the view's dim k. `select`, `slice`
(`narrow`), and reshapes that merge or split dims (`view`, `reshape`, `flatten`) each map
the new view's dims onto the old view's, so chains compose; once the view's shape lines up
with the kernel's iteration space its tokens become the kernel's `i<d>` variables (`0`
along a size-1 dim) and the read is one load, with no copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from agents.builtin.values import Formula

# a size as kernel source: a literal, a kernel argument, or None when it has none
SizeText = Callable[[Any], "str | None"]


def whole(rank: int) -> list[str]:
    """The index expressions of a tensor read as it is."""
    return [f"{{{k}}}" for k in range(rank)]


def compose(exprs: Sequence[str], old_dims: Sequence[str]) -> list[str]:
    """Rewrite expressions over the old view's dims with each old dim's expression."""
    grouped = [o if _atomic(o) else f"({o})" for o in old_dims]
    return [e.format(*grouped) for e in exprs]


def _atomic(expr: str) -> bool:
    """A name, a number, a token, or one parenthesised whole: safe inside any operator."""
    if expr.isidentifier() or expr.isdigit() or re.fullmatch(r"\{\d+\}", expr):
        return True
    if expr[0] != "(":
        return False
    depth = 0
    for n, char in enumerate(expr):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return n == len(expr) - 1
    return False


def materialize(exprs: Sequence[str], dims: Sequence[int | None]) -> tuple[str, ...]:
    """The load's index: each view dim's token becomes the F dim variable it walks."""
    names = ["0" if d is None else f"i{d}" for d in dims]
    return tuple(e.format(*names) for e in exprs)


def select_dims(rank: int, dim: int, at: int | str) -> list[str]:
    """Old dims of `x.select(dim, at)` in the new view's tokens."""
    dim %= rank
    new = iter(range(rank - 1))
    return [str(at) if k == dim else f"{{{next(new)}}}" for k in range(rank)]


def slice_dims(rank: int, dim: int, begin: int | str, step: int) -> list[str]:
    """Old dims of `x[..., begin::step, ...]` (along dim) in the new view's tokens."""
    old = whole(rank)
    token = old[dim % rank]
    scaled = token if step == 1 else f"{token} * {step}"
    old[dim % rank] = scaled if begin == 0 else f"({begin} + {scaled})"
    return old


def diagonal_dims(rank: int, offset: int, dim1: int, dim2: int) -> list[str]:
    """Old dims of `x.diagonal(offset, dim1, dim2)`: the diagonal is the new last dim."""
    dim1, dim2 = dim1 % rank, dim2 % rank
    kept = iter(range(rank - 2))
    along = f"{{{rank - 2}}}"
    old = [f"{{{next(kept)}}}" if k not in (dim1, dim2) else "" for k in range(rank)]
    old[dim1] = along if offset >= 0 else f"({along} + {-offset})"
    old[dim2] = along if offset <= 0 else f"({along} + {offset})"
    return old


def _prefixes(shape: Sequence[Any], traced: Callable[[Any], Any]) -> list[int]:
    products, total = [], 1
    for size in [1, *shape]:
        total = total * traced(size)
        products.append(total)
    return products


def reshape_dims(
    in_shape: Sequence[Any],
    out_shape: Sequence[Any],
    size_text: SizeText,
    traced: Callable[[Any], Any],
) -> list[str] | None:
    """Old dims of a row-major reshape in the new view's tokens; None if a size that a
    merge or split divides by has no kernel expression.

    Dims are matched in groups at equal prefix products (sizes as traced), so a merge
    reads `{0} * 33 + {1}` and a split `{0} // 33` and `{0} % 33`, never a division along
    an untouched dim.
    """
    p_in, p_out = _prefixes(in_shape, traced), _prefixes(out_shape, traced)
    n, m = len(in_shape), len(out_shape)
    old: list[str] = []
    a = b = 0
    while a < n:
        if b == m:  # trailing size-1 dims of the old view
            old += ["0"] * (n - a)
            break
        pair = next(
            (
                (a2, b2)
                for a2 in range(a + 1, n + 1)
                for b2 in range(b + 1, m + 1)
                if p_in[a2] == p_out[b2]
            ),
            None,
        )
        if pair is None:
            return None
        group = _group(in_shape[a : pair[0]], out_shape[b : pair[1]], b, size_text)
        if group is None:
            return None
        old += group
        a, b = pair
    return old


def _group(
    old_sizes: Sequence[Any], new_sizes: Sequence[Any], first: int, size_text: SizeText
) -> list[str] | None:
    """One matched group: the old dims from the group's row-major linear index."""
    if len(old_sizes) == 1 and len(new_sizes) == 1:
        return [f"{{{first}}}"]
    # the outermost size of each side is never a stride or a modulus
    texts = ["", *(size_text(s) for s in old_sizes[1:]), "", *map(size_text, new_sizes[1:])]
    if any(t is None for t in texts):
        return None
    old_texts, new_texts = texts[: len(old_sizes)], texts[len(old_sizes) :]
    terms, stride = [], ""
    for k in reversed(range(len(new_sizes))):
        if str(new_sizes[k]) != "1":
            token = f"{{{first + k}}}"
            terms.append(f"{token} * {stride}" if stride else token)
        stride = f"{new_texts[k]} * {stride}" if stride else str(new_texts[k])
    linear = " + ".join(reversed(terms)) or "0"
    if len(terms) > 1:
        linear = f"({linear})"
    old, stride = [], ""
    for k in reversed(range(len(old_sizes))):
        size = old_texts[k]
        expr = f"{linear} // ({stride})" if stride else linear
        if k > 0:
            expr = f"({expr}) % {size}" if stride else f"{linear} % {size}"
        old.append("0" if str(old_sizes[k]) == "1" else expr)
        stride = f"{size} * {stride}" if stride else str(size)
    return list(reversed(old))


def triangle(keep_lower: bool) -> Formula:
    """tril/triu as a mask on (x, row index, column index, diagonal)."""
    keep = "<=" if keep_lower else ">="

    def formula(a: Sequence[Any], k: dict[str, Any]) -> str:
        return f"tl.where(({a[2]}) - ({a[1]}) {keep} {a[3]}, {a[0]}, 0.0)"

    return formula


def on_diagonal(a: Sequence[Any], k: dict[str, Any]) -> str:
    """diag_embed as a mask on (x, row index, column index)."""
    return f"tl.where({a[1]} == {a[2]}, {a[0]}, 0.0)"


def shifted_dims(rank: int, dim: int, start: str, size: str) -> list[str]:
    """Old dims of a `cat` piece that starts at `start` along dim, read at the cat's
    index: clamped into the piece, so the lanes another piece owns read in bounds."""
    old = whole(rank)
    shifted = old[dim] if start == "0" else f"{old[dim]} - ({start})"
    old[dim] = "0" if size == "1" else f"tl.minimum(tl.maximum({shifted}, 0), {size} - 1)"
    return old


def pieces_formula(index: str, ends: Sequence[str]) -> Formula:
    """cat as nested selects: piece p where the index is below its end (ends[p])."""

    def formula(a: Sequence[Any], k: dict[str, Any]) -> str:
        expr = str(a[-1])
        for piece, end in reversed(list(zip(a[:-1], ends, strict=False))):
            expr = f"tl.where({index} < {end}, {piece}, {expr})"
        return expr

    return formula
