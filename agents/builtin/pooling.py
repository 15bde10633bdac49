"""Max and average pooling (1-D, 2-D, 3-D) as pointwise work over the pooled output.

Each output point reads its window straight from the input: one load per window position
(unrolled: kernel sizes are the op's constants), at the output index times the stride, minus
the padding, plus the position times the dilation. Positions that may fall in the padding
are masked off there and read -inf (max) or 0 (average), so padding is never read; max
propagates NaN as torch does, and the average divides by the window's count as torch counts
it (`count_include_pad`, `ceil_mode`, `divisor_override`). Memory-bound: each input element
is read once per window covering it, from cache after the first. The pointwise epilogue that
follows fuses as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch.fx import Node as FxNode

from agents.builtin import index_views as iv
from agents.builtin import pool_windows as pw
from agents.builtin.fx_nodes import is_one, shape_of
from agents.builtin.kernel_writer import NEG_INF
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.values import CannotLower, NotLowered, Value
from agents.builtin.view_lowering import load_view

POOLS = pw.POOLS


def output_dims(lw: LoweringContext, shape: tuple[Any, ...]) -> tuple[int | None, ...] | None:
    """The F dims the pooled output walks: aligned, or (a 1-D pool, traced as a 2-D one
    on an unsqueezed input) the same sizes once the size-1 dims are dropped."""
    dims = lw.align(shape)
    if dims is not None:
        return dims
    kept = [s for s in shape if not is_one(s)]
    f_dims = [d for d, s in enumerate(lw.f_shape) if not is_one(s)]
    if [str(s) for s in kept] != [str(lw.f_shape[d]) for d in f_dims]:
        return None
    walk = iter(f_dims)
    return tuple(None if is_one(s) else next(walk) for s in shape)


def wide_index(index: str) -> str:
    """A batch or channel index in 64 bits: the input can outgrow int32 offsets (KernelBench
    45 pools 16 x 64 x 2048 x 2048, 2**32 elements); within an image positions stay 32-bit."""
    return index if index == "0" else f"{index}.to(tl.int64)"


def _window_formula(kind: str) -> Any:
    """Fold one window position into the running result (a[0]; a[1] is the new load, which
    reads the fill where the position is in the padding)."""
    step = (
        "tl.maximum({0}, {1}, propagate_nan=tl.PropagateNan.ALL)" if kind == "max" else "{0} + {1}"
    )

    def formula(a: Sequence[Any], k: dict[str, Any]) -> str:
        return step.format(*a)

    return formula


def _divide(by: str) -> Any:
    def formula(a: Sequence[Any], k: dict[str, Any]) -> str:
        return f"{a[0]} / ({by})"

    return formula


def lower_pool(lw: LoweringContext, node: FxNode, op: str) -> Any:
    """The pooled value (with a NotLowered indices output for the *_with_indices ops)."""
    try:
        spec = pw.pool_spec(node, op)
    except pw.BadPool as exc:
        raise CannotLower(f"{op} ({exc})") from exc
    x_node = node.args[0]
    val = node.meta["val"]
    values = val[0] if isinstance(val, (tuple, list)) else val
    if not values.dtype.is_floating_point:
        raise CannotLower(f"{op} (only floating-point inputs are pooled)")
    viewed = load_view(lw, x_node) if isinstance(x_node, FxNode) else None
    shape = tuple(values.shape)
    dims = output_dims(lw, shape)
    if viewed is None or dims is None:
        raise CannotLower(f"{op} (the pooled tensor must be an input or a view of one)")
    base, exprs = viewed
    nd = len(spec.kernel)
    lead = len(shape) - nd
    outs = ["0" if d is None else f"i{d}" for d in dims]
    sizes = [lw.size_text(s) for s in shape_of(x_node)[lead:]]
    if any(s is None for s in sizes):
        raise CannotLower(f"{op} (an input size with no kernel expression)")
    wide = [wide_index(o) for o in outs]
    lw.uses_indices = True
    # a window along F's last dim at stride 1 is bounded in the input on both sides, so its
    # loads need not the output's bound there (the shifts by multiples of 4 load 16 bytes)
    last = nd - 1
    bounded = dims[lead + last] == lw.rank - 1 and spec.stride[last] == 1
    result: Value | None = None
    for offsets in spec.offsets:
        places = [
            pw.position(spec, j, k, outs[lead + j], sizes[j], bounded and j == last)
            for j, k in enumerate(offsets)
        ]
        tokens = wide[:lead] + [p.index for p in places]
        load = lw.indexed_load(base, dims, tuple(iv.compose(exprs, tokens)))
        inside = [c for p in places for c in p.inside]
        if inside:  # in the padding: masked off, reading max's or the average's identity
            load.guard = f"({' & '.join(inside)})" if len(inside) > 1 else inside[0]
            load.fill = NEG_INF if spec.kind == "max" else "0.0"
            load.guard_bounds_row = bounded
        if result is None:
            result = load
            continue
        result = lw.make(
            lw.fresh(node.name), shape, values.dtype, _window_formula(spec.kind), [result, load]
        )
        result.dims = dims
    assert result is not None
    if spec.kind == "avg":
        by = pw.divisor(spec, outs[lead:], [str(s) for s in sizes])
        result = lw.make(lw.fresh(node.name), shape, values.dtype, _divide(by), [result])
        result.dims = dims
    result.name = node.name
    if op.endswith("_with_indices"):
        return (result, NotLowered(f"{op} (return_indices=True: the indices are not computed)"))
    return result
