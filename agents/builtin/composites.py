"""Composite aten ops expanded into primitive reductions and pointwise formulas.

Softmax family, layer/batch/group norm, vector norms, variance and the losses all become
a few `sum`/`max` reductions over the plan's reduced dims plus pointwise work, which the
kernel writer fuses into passes over each row.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.fx import Node as FxNode

from agents.builtin import pointwise_ops as pw
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.values import ROW, Num, Value, identity

P = pw.POINTWISE
F32 = torch.float32
LOSSES = {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"}
NORMS = {"linalg_vector_norm", "norm", "frobenius_norm"}
COMPOSITES = (
    {
        "_softmax",
        "_log_softmax",
        "logsumexp",
        "native_layer_norm",
        "_native_batch_norm_legit",
        "var",
        "std",
    }
    | LOSSES
    | NORMS
)


def rsqrt_eps(a: Any, k: dict[str, Any]) -> str:
    return f"tl.rsqrt({a[0]} + {a[1]})"


def _arg(node: FxNode, i: int, name: str, default: Any) -> Any:
    return node.args[i] if len(node.args) > i else node.kwargs.get(name, default)


def normalize(lw: LoweringContext, x: Value, weight: Any, bias: Any, eps: Any, name: str) -> Value:
    """(x - mean) * rsqrt(var + eps) * weight + bias over the reduced dims: two passes."""
    f, row = lw.f_shape, lw.row_shape(True)
    total = lw.reduce(x, "sum", True, lw.fresh("row_sum"))
    mean = lw.make(lw.fresh("mean"), row, F32, P["div"], [total, lw.count()])
    centered = lw.make(lw.fresh("centered"), f, F32, P["sub"], [x, mean])
    sq = lw.make(lw.fresh("sq"), f, F32, P["square"], [centered])
    ss = lw.reduce(sq, "sum", True, lw.fresh("row_sq_sum"))
    var = lw.make(lw.fresh("var"), row, F32, P["div"], [ss, lw.count()])
    return _standardized(lw, centered, var, eps, row, weight, bias, name, x.dtype)


def _standardized(
    lw: LoweringContext,
    centered: Value,
    var: Value,
    eps: Any,
    var_shape: tuple[Any, ...],
    weight: Any,
    bias: Any,
    name: str,
    dtype: torch.dtype,
) -> Value:
    """centered * rsqrt(var + eps), then the optional affine weight and bias, as `dtype`."""
    f = lw.f_shape
    rstd = lw.make(lw.fresh("rstd"), var_shape, F32, rsqrt_eps, [var, eps])
    out = lw.make(lw.fresh("normed"), f, F32, P["mul"], [centered, rstd])
    if weight is not None:
        out = lw.make(lw.fresh("scaled"), f, F32, P["mul"], [out, weight])
    if bias is not None:
        out = lw.make(lw.fresh("shifted"), f, F32, P["add"], [out, bias])
    return lw.make(name, f, dtype, identity, [out])


def softmax_family(
    lw: LoweringContext, node: FxNode, op: str, x: Value, dtype: torch.dtype
) -> Value:
    """softmax, log_softmax and logsumexp: a max pass, a sum-of-exp pass, then the output."""
    f, row = lw.f_shape, lw.row_shape(True)
    m = lw.reduce(x, "max", True, lw.fresh("row_max"))
    shifted = lw.make(lw.fresh("shifted"), f, F32, P["sub"], [x, m])
    e = lw.make(lw.fresh("exp"), f, F32, P["exp"], [shifted])
    s = lw.reduce(e, "sum", True, lw.fresh("row_sum"))
    if op == "_softmax":
        return lw.make(node.name, f, dtype, P["div"], [e, s])
    log_s = lw.make(lw.fresh("log_sum"), row, F32, P["log"], [s])
    if op == "_log_softmax":
        return lw.make(node.name, f, dtype, P["sub"], [shifted, log_s])
    lse = lw.make(lw.fresh("lse"), row, F32, P["add"], [m, log_s])
    if _arg(node, 2, "keepdim", False):
        return lse
    dims = tuple(d for i, d in enumerate(lse.dims) if i not in lw.reduced)
    return Value(node.name, "pw", ROW, dims, dtype, formula=identity, operands=[lse])


def vector_norm(lw: LoweringContext, node: FxNode, x: Value, dtype: torch.dtype) -> Value:
    order = _arg(node, 1, "ord", 2)
    order = 2 if order is None else order
    keepdim = bool(_arg(node, 3, "keepdim", False))
    a = lw.make(lw.fresh("abs"), lw.f_shape, F32, P["abs"], [x])
    if order in (float("inf"), float("-inf")):
        return lw.reduce(a, "max" if order > 0 else "min", keepdim, node.name)
    if order == 1:
        return lw.reduce(a, "sum", keepdim, node.name)
    powered = lw.make(lw.fresh("pow"), lw.f_shape, F32, P["pow"], [a, Num(order)])
    s = lw.reduce(powered, "sum", keepdim, lw.fresh("sum"))
    return lw.make(node.name, lw.row_shape(keepdim), dtype, P["pow"], [s, Num(1.0 / order)])


def variance(lw: LoweringContext, node: FxNode, op: str, x: Value, dtype: torch.dtype) -> Value:
    correction = node.kwargs.get("correction", 1)
    correction = 1 if correction is None else correction
    keepdim = bool(node.kwargs.get("keepdim", False))
    f, shape = lw.f_shape, lw.row_shape(keepdim)
    total = lw.reduce(x, "sum", True, lw.fresh("row_sum"))
    mean = lw.make(lw.fresh("mean"), lw.row_shape(True), F32, P["div"], [total, lw.count()])
    centered = lw.make(lw.fresh("centered"), f, F32, P["sub"], [x, mean])
    sq = lw.make(lw.fresh("sq"), f, F32, P["square"], [centered])
    ss = lw.reduce(sq, "sum", keepdim, lw.fresh("row_sq_sum"))
    name = node.name if op == "var" else lw.fresh("var")
    var = lw.make(
        name,
        shape,
        dtype,
        lambda a, k: f"({a[0]}) / ({a[1]} - {a[2]})",
        [ss, lw.count(), correction],
    )
    return var if op == "var" else lw.make(node.name, shape, dtype, P["sqrt"], [var])


def loss(lw: LoweringContext, node: FxNode, op: str, x: Value, dtype: torch.dtype) -> Value:
    """An elementwise loss term, then its mean or sum over every element."""
    y = lw.operand(node, node.args[1], 1)
    mode = _arg(node, 2, "reduction", 1)
    f = lw.f_shape
    diff = lw.make(lw.fresh("diff"), f, F32, P["sub"], [x, y])
    if op == "mse_loss":
        term = lw.make(lw.fresh("sq"), f, F32, P["square"], [diff])
    elif op == "l1_loss":
        term = lw.make(lw.fresh("abs"), f, F32, P["abs"], [diff])
    else:
        key = "beta" if op == "smooth_l1_loss" else "delta"
        param = lw.operand(node, _arg(node, 3, key, 1.0), 3)
        d = lw.make(lw.fresh("abs"), f, F32, P["abs"], [diff])
        if op == "smooth_l1_loss":
            quad, lin = "0.5 * ({0}) * ({0}) / {1}", "({0}) - 0.5 * {1}"
        else:
            quad, lin = "0.5 * ({0}) * ({0})", "{1} * (({0}) - 0.5 * {1})"

        def piecewise(a: Any, k: dict[str, Any], q: str = quad, li: str = lin) -> str:
            return f"tl.where(({a[0]}) < {a[1]}, {q.format(*a)}, {li.format(*a)})"

        term = lw.make(lw.fresh("term"), f, F32, piecewise, [d, param])
    if not mode:
        return lw.make(node.name, f, dtype, identity, [term])
    total = lw.reduce(term, "sum", False, lw.fresh("total"))
    if mode == 2:
        return lw.make(node.name, (), dtype, identity, [total])
    return lw.make(node.name, (), dtype, P["div"], [total, lw.count()])


def batch_norm(
    lw: LoweringContext, node: FxNode, tensors: Any, eps_at: int, training: bool
) -> tuple:
    """Batch norm; in training its statistics reduce every dim but the channels (dim 1)."""
    x = lw.operand(node, tensors[0], 0)
    w, b = (lw.channel_load(t) for t in tensors[1:3])
    eps = lw.operand(node, node.args[eps_at], eps_at)
    dtype = node.meta["val"][0].dtype
    if training:
        return (normalize(lw, x, w, b, eps, node.name), None, None)
    f = lw.f_shape
    mean, var = (lw.channel_load(t) for t in tensors[3:5])
    centered = lw.make(lw.fresh("centered"), f, F32, P["sub"], [x, mean])
    return (_standardized(lw, centered, var, eps, f, w, b, node.name, dtype), None, None)


def lower_composite(lw: LoweringContext, node: FxNode, op: str) -> Any:
    x = lw.operand(node, node.args[0], 0)
    val = node.meta["val"]
    dtype = val[0].dtype if isinstance(val, (tuple, list)) else val.dtype
    if op in ("_softmax", "_log_softmax", "logsumexp"):
        return softmax_family(lw, node, op, x, dtype)
    if op == "native_layer_norm":
        w, b = (
            lw.operand(node, t, i) if t is not None else None
            for i, t in ((2, node.args[2]), (3, node.args[3]))
        )
        out = normalize(lw, x, w, b, lw.operand(node, node.args[4], 4), node.name)
        return (out, None, None)
    if op == "_native_batch_norm_legit":
        no_stats = node.target._overloadname == "no_stats"
        training = no_stats or bool(node.args[5])
        tensors = node.args[:3] if no_stats else node.args[:5]
        return batch_norm(lw, node, tensors, 5 if no_stats else 7, training)
    if op in NORMS:
        return vector_norm(lw, node, x, dtype)
    if op in ("var", "std"):
        return variance(lw, node, op, x, dtype)
    return loss(lw, node, op, x, dtype)
