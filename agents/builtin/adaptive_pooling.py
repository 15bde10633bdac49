"""Adaptive average and max pooling (2-D and 3-D; 1-D traces as 2-D) as pointwise work.

Output point o along a dim of input size n and output size m pools the input rows
[o * n // m, ceil((o + 1) * n / m)): windows differ in length, so a jit helper,
`_adaptive_pool`, loops over the longest window (cdiv(n, m), plus one when m does not
divide n; the host computes it per call) and masks the rows past each window's end. The
average divides by the window's own size; max propagates NaN as torch does. Used from a
pointwise kernel only (it reads the kernel's `mask`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch.fx import Node as FxNode

from agents.builtin.fx_nodes import shape_of
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.pooling import POOLS, output_dims, wide_index
from agents.builtin.values import CannotLower, NotLowered
from agents.builtin.view_lowering import load_view

ADAPTIVE_POOLS = {
    "_adaptive_avg_pool2d": ("avg", 2),
    "_adaptive_avg_pool3d": ("avg", 3),
    "adaptive_max_pool2d": ("max", 2),
    "adaptive_max_pool3d": ("max", 3),
}
POOLING_OPS = set(POOLS) | ADAPTIVE_POOLS.keys()  # every pooling op, as a plan's fused names it
HELPER = "_adaptive_pool"
HELPER_SOURCE = '''@triton.jit
def _adaptive_pool(
    ptr, s0, s1, s2, o0, o1, o2, n0, n1, n2, m0, m1, m2, k0, k1, k2, mask, IS_MAX: tl.constexpr
):
    """The adaptive window of each output point (o0, o1, o2) over an n0 x n1 x n2 input
    pooled to m0 x m1 x m2, walked up to its longest length k0 x k1 x k2."""
    zero = tl.zeros(mask.shape, dtype=tl.int32)  # every bound a tensor of the block's shape
    start0 = zero + (o0 * n0) // m0
    end0 = zero + ((o0 + 1) * n0 + m0 - 1) // m0
    start1 = zero + (o1 * n1) // m1
    end1 = zero + ((o1 + 1) * n1 + m1 - 1) // m1
    start2 = zero + (o2 * n2) // m2
    end2 = zero + ((o2 + 1) * n2 + m2 - 1) // m2
    if IS_MAX:
        result = tl.full(mask.shape, float("-inf"), tl.float32)
    else:
        result = tl.zeros(mask.shape, dtype=tl.float32)
    for j0 in range(0, k0):
        for j1 in range(0, k1):
            for j2 in range(0, k2):
                p0 = start0 + j0
                p1 = start1 + j1
                p2 = start2 + j2
                inside = mask & (p0 < end0) & (p1 < end1) & (p2 < end2)
                x = tl.load(ptr + p0 * s0 + p1 * s1 + p2 * s2, mask=inside, other=0.0)
                x = x.to(tl.float32)
                if IS_MAX:
                    bigger = tl.maximum(result, x, propagate_nan=tl.PropagateNan.ALL)
                    result = tl.where(inside, bigger, result)
                else:
                    result += x
    if IS_MAX:
        divisor = zero + 1
    else:
        divisor = (end0 - start0) * (end1 - start1) * (end2 - start2)
    return result / divisor'''
# a dim the 2-D helper call does not have: stride 0, one row of one, one step
_UNUSED = ("0", "0", "1", "1", "1")


def _strides(source: str, exprs: Sequence[str], rank: int) -> list[str] | None:
    """Each pooled-input dim's stride in the source: the source dims read at exactly that
    dim's index; None when a dim is read through other arithmetic (a reshape)."""
    if any(e != "0" and e not in {f"{{{k}}}" for k in range(rank)} for e in exprs):
        return None
    return [
        " + ".join(f"{source}_s{j}" for j, e in enumerate(exprs) if e == f"{{{k}}}") or "0"
        for k in range(rank)
    ]


def lower_adaptive_pool(lw: LoweringContext, node: FxNode, op: str) -> Any:
    """The pooled value (with a NotLowered indices output for adaptive max pooling)."""
    kind, nd = ADAPTIVE_POOLS[op]
    sizes_out = list(node.args[1])
    val = node.meta["val"]
    values = val[0] if isinstance(val, (tuple, list)) else val
    x_node = node.args[0]
    shape = tuple(values.shape)
    dims = output_dims(lw, shape)
    viewed = load_view(lw, x_node) if isinstance(x_node, FxNode) else None
    if lw.reduced or lw.dot is not None or dims is None or viewed is None:
        raise CannotLower(f"{op} (only an input or a view of one, in a pointwise kernel)")
    if not values.dtype.is_floating_point or not all(isinstance(s, int) for s in sizes_out):
        raise CannotLower(f"{op} (floating-point inputs and static output sizes only)")
    base, exprs = viewed
    in_shape = shape_of(x_node)
    strides = _strides(base.source, exprs, len(in_shape))
    in_sizes = [lw.size_text(s) for s in in_shape[-nd:]]
    if strides is None or any(s is None for s in in_sizes):
        raise CannotLower(f"{op} (an input read through a reshape)")
    lead = len(shape) - nd
    outs = ["0" if d is None else f"i{d}" for d in dims]
    base_offset = " + ".join(
        f"{wide_index(outs[k])} * {strides[k]}" for k in range(lead) if outs[k] != "0"
    )
    ptr = f"{base.source}_ptr" + (f" + {base_offset}" if base_offset else "")
    longest = []
    for j, (size, m) in enumerate(zip(in_shape[-nd:], sizes_out, strict=True)):
        host = lw.host_size(size)
        window = f"triton.cdiv({host}, {m}) + int({host} % {m} != 0)"
        longest.append(lw.scalar(f"window_{node.name}_{j}", window))
    per_dim = [
        (strides[lead + j], outs[lead + j], in_sizes[j], str(m), longest[j])
        for j, m in enumerate(sizes_out)
    ]
    if nd == 2:
        per_dim.insert(0, _UNUSED)
    args = [ptr, *(column for i in range(5) for column in (d[i] for d in per_dim))]
    call = f"{HELPER}({', '.join(args)}, mask, {kind == 'max'})"

    def formula(a: Sequence[Any], k: dict[str, Any]) -> str:
        return call

    lw.uses_indices = True
    # a load of the input's first element (one per lane of the pointwise kernel's block),
    # which the helper call does not use: it marks the input as read (a stage passes only
    # the inputs its loads read), and the compiler drops it
    read = lw.indexed_load(base, (), ("offsets * 0",) + ("0",) * (len(exprs) - 1))
    result = lw.make(node.name, shape, values.dtype, formula, [], {"reads": read})
    result.dims, result.level = dims, lw.level(dims, [])
    if kind == "max":
        return (result, NotLowered(f"{op} (the indices are not computed)"))
    return result
