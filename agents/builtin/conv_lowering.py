"""Lower `aten.convolution` (1-D/2-D/3-D, strided, padded, dilated, grouped, transposed)
into the plan's `Conv`: F is the convolution's output (N, C_out, *spatial), the kernel an
implicit GEMM over it (conv_writer.py), the bias and any pointwise work after it an epilogue
on the accumulator. A zero `constant_pad_nd` of the input (asymmetric padding, `F.pad`
before the convolution) folds into the padding: the padded border reads as zeros anyway.
"""

from __future__ import annotations

from torch.fx import Node as FxNode

from agents.builtin import pointwise_ops as pw
from agents.builtin.errors import LLM_HINT
from agents.builtin.fx_nodes import packet, shape_of
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.values import FULL, Conv, Value
from agents.types import Unsupported

CONVS = {"convolution"}
PAD = "constant_pad_nd"
# the conv kernels' own variables, kept apart from the names of sources and values
CONV_LOCALS = {"batch", "channel", "group", "ci", "k_mask", "m_mask", "n_mask", "x_mask", "x_base"}
CONV_LOCALS |= {"tap", "a_base", "w_base", "c0", "phase", "x_tile", "w_tile", "w_col"}
CONV_LOCALS |= {f"{v}{d}" for v in ("o", "p", "q", "t", "ph", "tf", "tn") for d in range(5)}
CONV_LOCALS |= {"k0", "step", "c_steps", "block_c", "block_n", "rem_t", "taps_win"}
CONV_LOCALS |= {"plane", "x_plane", "w_plane", "w_tap"}  # the row-tiled depthwise kernel


def refuse(reason: str) -> Unsupported:
    return Unsupported(
        ["aten.convolution"],
        f"the builtin agent cannot lower aten.convolution ({reason}); " + LLM_HINT,
    )


def padding_for_convolution(node: FxNode) -> bool:
    """A constant_pad_nd that only convolutions read: it folds into their padding."""
    return packet(node) == PAD and all(packet(u) in CONVS for u in node.users)


def convolution_operands(node: FxNode) -> set[FxNode]:
    """The input and weight of a convolution that the graph computes (a zero pad of an
    input aside, which folds into the padding): each needs a buffer of its own."""
    x = node.args[0]
    if isinstance(x, FxNode) and packet(x) == PAD:
        x = x.args[0]
    return {a for a in (x, node.args[1]) if isinstance(a, FxNode) and a.op == "call_function"}


def _input_padding(x: FxNode, spatial: int, transposed: bool) -> tuple[FxNode, list[int]]:
    """The tensor the convolution reads and the zeros padded before each spatial dim."""
    if packet(x) != PAD:
        return x, [0] * spatial
    x_in, pads = x.args[0], list(x.args[1])
    value = x.args[2] if len(x.args) > 2 else 0
    if transposed or value != 0 or any(not isinstance(p, int) or p < 0 for p in pads):
        raise refuse("a pad that is not a zero border of a strided convolution's input")
    rank = len(shape_of(x_in))
    if len(pads) > 2 * spatial:
        raise refuse("a pad of the batch or channel dims")
    before = [0] * rank  # F.pad lists (before, after) pairs from the last dim backwards
    for i in range(len(pads) // 2):
        before[rank - 1 - i] = pads[2 * i]
    return x_in, before[2:]


def _source(lowerer: LoweringContext, node: FxNode, what: str) -> str:
    value = lowerer.values.get(node.name) if isinstance(node, FxNode) else None
    if not isinstance(value, Value) or value.kind != "load" or value.index is not None:
        raise refuse(f"its {what} is computed in forward; only graph inputs and parameters")
    return value.source


def lower_convolution(lowerer: LoweringContext, node: FxNode) -> Value:
    """The convolution as the plan's Conv, and its accumulator (plus the bias) as a Value."""
    x, w, bias, stride, padding, dilation, transposed, _, groups = node.args
    spatial = len(shape_of(node)) - 2
    if spatial not in (1, 2, 3):
        raise refuse(f"{spatial} spatial dims; 1-D, 2-D and 3-D are lowered")
    if not isinstance(groups, int):
        raise refuse("a group count that is not a constant")
    x, before = _input_padding(x, spatial, bool(transposed))
    lowerer.conv = Conv(
        x=_source(lowerer, x, "input"),
        w=_source(lowerer, w, "weight"),
        stride=tuple(stride),
        padding=tuple(p + b for p, b in zip(padding, before, strict=True)),
        dilation=tuple(dilation),
        transposed=bool(transposed),
        groups=groups,
    )
    dtype = node.meta["val"].dtype
    acc = Value("acc", "dot", FULL, tuple(range(lowerer.rank)), dtype)
    if bias is None:
        return acc
    b = lowerer.channel_load(bias)
    return lowerer.make(node.name, shape_of(node), dtype, pw.POINTWISE["add"], [acc, b])
