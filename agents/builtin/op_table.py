"""Which lowering each aten op of the walk goes to, and the lowerings of the plain families:
pointwise ops, casts and constants, reductions, scans, group norm, and the matmul.

An op that no lowering takes raises CannotLower (collected by the walk and reported
together); one no kernel can match (random numbers) is refused at once.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.fx import Node as FxNode

from agents.builtin import pointwise_ops as pw
from agents.builtin import view_lowering as views
from agents.builtin.adaptive_pooling import ADAPTIVE_POOLS, lower_adaptive_pool
from agents.builtin.composites import COMPOSITES, batch_norm, lower_composite, normalize
from agents.builtin.conv_lowering import CONVS, lower_convolution, padding_for_convolution
from agents.builtin.errors import LLM_HINT
from agents.builtin.flips import lower_flip, unflipped
from agents.builtin.fx_nodes import packet, permutation, shape_of
from agents.builtin.gather import lower_gather
from agents.builtin.iteration_space import same_shape
from agents.builtin.loads import lower_view, regrouped_load
from agents.builtin.lowering_state import LoweringState
from agents.builtin.matmul_views import (
    diagonal_product,
    feeds_matmul_only,
    is_matrix_vector,
    matrix_vector,
    operand_source,
    skip_zero_tiles,
)
from agents.builtin.op_families import (
    CASTS,
    CONSTANTS,
    LAZY,
    MATMULS,
    RANDOM,
    REDUCTIONS,
    SCANS,
    VIEWS,
)
from agents.builtin.pooling import POOLS, lower_pool
from agents.builtin.values import (
    FULL,
    ROW,
    CannotLower,
    Dot,
    DotOperand,
    NotLowered,
    Num,
    Value,
    identity,
)
from agents.types import Unsupported


def lower_constant(st: LoweringState, node: FxNode) -> Value:
    """A tensor made in forward: a literal when it holds one known value."""
    tensor = getattr(st.gm, str(node.target))
    if tensor.dim() == 0 and tensor.device.type != "meta":
        literal = tensor.item()
        operand = Num(literal) if isinstance(literal, float) else literal
        return Value(node.name, "const", ROW, (), tensor.dtype, operands=[operand])
    shape = "x".join(str(s) for s in tensor.shape) or "0-dim"
    raise CannotLower(
        f"<constant: a {shape} tensor made in forward on the inputs' device "
        f"({node.target}): tracing on the meta device cannot read its values; make it "
        "a buffer in __init__>"
    )


def lower_node(st: LoweringState, node: FxNode, op: str) -> Any:
    """The node's Value (or HostScalar, NotLowered, tuple of them); raises CannotLower."""
    if op in RANDOM:
        raise Unsupported(
            [f"aten.{op}"],
            f"aten.{op} draws random numbers (training-mode dropout or sampling), which "
            "a kernel cannot draw as torch does, so no candidate can match the reference; "
            "in eval mode nn.Dropout is the identity and is lowered; " + LLM_HINT,
        )
    if op == "getitem":
        piece = f"{node.args[0].name}#{node.args[1]}"
        if piece in st.index_views:  # a piece of a split input
            st.index_views[node.name] = st.index_views[piece]
            return views.view_load(st, node, "split")
        return st.values[node.args[0].name][node.args[1]]
    if op == "sym_size":
        return st.size_scalar(shape_of(node.args[0])[node.args[1]])
    if feeds_matmul_only(node):
        return NotLowered(op)  # the matmul reads its operand as a host view
    if padding_for_convolution(node):
        return NotLowered(op)  # the convolution reads it as padding
    if op in LAZY or not isinstance(node.meta.get("val"), (torch.Tensor, tuple, list)):
        return NotLowered(op)
    if st.group_norm is not None and node is st.group_norm[0]:
        return _lower_group_norm(st, node, op)
    if op in views.SPLIT_VIEWS:
        return views.split(st, node, op)
    if op in pw.IDENTITY and node.args[0].name in st.index_views:
        st.index_views[node.name] = st.index_views[node.args[0].name]  # a clone
        x = st.values[node.args[0].name]
        if not isinstance(x, Value) or x.pending:
            return views.view_load(st, node, op)
    if op in VIEWS:
        return lower_view(st, node, op)
    if op in views.INDEX_VIEWS:
        return views.index_view(st, node, op)
    st.fused.append(op)
    if op in views.TRIANGLES:
        masked = views.triangle(st, node, op)
        skip_zero_tiles(st, node, op, masked)
        return masked
    if op == "diag_embed":
        return views.diag_embed(st, node, op)
    if op == "cat":
        return views.cat(st, node, op)
    if is_matrix_vector(node):
        return matrix_vector(st, node)
    if op in MATMULS:
        return _lower_matmul(st, node, op)
    if op in CONVS:
        return lower_convolution(st, node)
    if op in POOLS:
        return lower_pool(st, node, op)
    if op in ADAPTIVE_POOLS:
        return lower_adaptive_pool(st, node, op)
    if op in REDUCTIONS:
        return _lower_reduction(st, node, op)
    if op in SCANS:
        return _lower_scan(st, node, op)
    if op == "flip":
        return lower_flip(st, node)
    if op == "gather":
        return lower_gather(st, node)
    if op == "_native_batch_norm_legit_no_training":
        return batch_norm(st, node, node.args[:5], 6, training=False)
    if op in COMPOSITES:
        return lower_composite(st, node, op)
    return _lower_pointwise(st, node, op)


def _lower_pointwise(st: LoweringState, node: FxNode, op: str) -> Value:
    val = node.meta["val"]
    if op in pw.IDENTITY or op in CASTS:
        x = st.operand(node, node.args[0], 0)
        return st.make(node.name, shape_of(node), val.dtype, identity, [x])
    if op in CONSTANTS:
        fill = {"ones_like": 1.0, "zeros_like": 0.0, "ones": 1.0, "zeros": 0.0}.get(op)
        at = {"full": 1, "full_like": 1, "new_full": 2}.get(op, 0)
        literal = st.operand(node, node.args[at], at) if fill is None else fill
        return Value(node.name, "const", ROW, (), val.dtype, operands=[literal])
    formula = pw.POINTWISE.get(op)
    if formula is None:
        raise CannotLower(op)
    args = list(node.args)
    operands = [st.operand(node, a, i) for i, a in enumerate(args)]
    options = {
        k: st.operand(node, v, len(args) + i) for i, (k, v) in enumerate(node.kwargs.items())
    }
    return st.make(node.name, shape_of(node), val.dtype, formula, operands, options)


def _lower_reduction(st: LoweringState, node: FxNode, op: str) -> Any:
    x = st.operand(node, node.args[0], 0)
    args, kw = node.args, node.kwargs
    keepdim = bool(args[2] if len(args) > 2 else kw.get("keepdim", False))
    if op in ("max", "min") and len(args) > 1:
        values = st.reduce(x, op, keepdim, node.name + "_values")
        return (values, st.reduce(x, "arg" + op, keepdim, node.name + "_indices"))
    red_op = {"amax": "max", "amin": "min", "mean": "sum"}.get(op, op)
    if op != "mean":
        return st.reduce(x, red_op, keepdim, node.name)
    total = st.reduce(x, "sum", keepdim, node.name + "_sum")
    shape = st.row_shape(keepdim)
    return st.make(node.name, shape, total.dtype, pw.POINTWISE["div"], [total, st.count()])


def _lower_scan(st: LoweringState, node: FxNode, op: str) -> Value:
    """cumsum / cumprod: a running total carried across the blocks of the last pass."""
    x = st.operand(node, node.args[0], 0)
    if len(st.reduced) != 1 or not isinstance(x, Value):
        raise CannotLower(op)
    x = unflipped(st, x)
    st.has_cumprod = st.has_cumprod or op == "cumprod"
    dtype = node.meta["val"].dtype
    return Value(node.name, "scan", FULL, x.dims, dtype, operands=[x], red_op=SCANS[op])


def _lower_group_norm(st: LoweringState, node: FxNode, op: str) -> tuple[Any, ...]:
    st.fused.append("group_norm" if op == "native_group_norm" else "instance_norm")
    _, x_node, _ = st.group_norm or (None, None, None)
    if op == "native_group_norm":
        weight, bias, eps_at = node.args[1], node.args[2], 7
    else:
        weight, bias, eps_at = node.args[1], node.args[2], 5
    x = regrouped_load(st, x_node, per_channel=False)
    w = regrouped_load(st, weight, per_channel=True)
    b = regrouped_load(st, bias, per_channel=True)
    eps = st.operand(node, node.args[eps_at], eps_at)
    return (normalize(st, x, w, b, eps, node.name), None, None)


def _lower_matmul(st: LoweringState, node: FxNode, op: str) -> Value:
    if (scaled := diagonal_product(st, node, op)) is not None:
        return scaled
    args = node.args[1:] if op == "addmm" else node.args
    batched = op == "bmm"
    a = _dot_operand(st, args[0], ("b", "m", "k") if batched else ("m", "k"))
    b = _dot_operand(st, args[1], ("b", "k", "n") if batched else ("k", "n"))
    size = shape_of(args[0])[-1]
    k_size = str(size) if isinstance(size, int) else st.traced.symbols.get(str(size))
    st.dot = Dot(a, b, k_size or f"{a.source}.shape[{a.roles.index('k')}]")
    val = node.meta["val"]
    dot = Value("acc", "dot", FULL, tuple(range(st.rank)), val.dtype)
    if op != "addmm":
        return dot
    if node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1:
        raise CannotLower(op)
    bias = st.operand(node, node.args[0], 0)
    return st.make(node.name, shape_of(node), val.dtype, pw.POINTWISE["add"], [bias, dot])


def _dot_operand(st: LoweringState, arg: FxNode, roles: tuple[str, ...]) -> DotOperand:
    """Follow transposes and no-op views from a matmul operand back to a source; other
    views of an input (a reshape folding leading dims into M) are made on the host."""
    operand, given = arg, roles
    while arg.op == "call_function":
        op = packet(arg)
        inner = arg.args[0]
        if op in ("t", "transpose", "permute"):
            perm = permutation(arg, op, len(roles))
            inverse = [""] * len(roles)
            for i, p in enumerate(perm):
                inverse[p] = roles[i]
            roles = tuple(inverse)
        elif not (same_shape(shape_of(arg), shape_of(inner)) and op in VIEWS | pw.IDENTITY):
            return DotOperand(operand_source(st, operand), given)
        arg = inner
    return DotOperand(st.values[arg.name].source, roles)
