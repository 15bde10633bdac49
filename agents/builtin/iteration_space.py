"""The iteration space F of a one-kernel graph, and the requests that decide it.

F is the output shape of a pointwise graph, the shape its reductions reduce, the output of
its one matmul or convolution, or for group and instance norm the regrouped shape
(N, G, C/G, *spatial). A graph that needs more than one F is refused here, naming its ops;
the partitioner (stages.py) reads the same requests to cut such a graph into stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.fx import GraphModule
from torch.fx import Node as FxNode

from agents.builtin.composites import COMPOSITES
from agents.builtin.conv_lowering import CONVS
from agents.builtin.errors import LLM_HINT
from agents.builtin.fx_nodes import is_one, packet, shape_of
from agents.builtin.host_sizes import host_size
from agents.builtin.matmul_views import is_matrix_vector
from agents.builtin.op_families import MATMULS, REDUCTIONS, SCANS, VIEWS
from agents.builtin.reference import Traced
from agents.builtin.values import DerivedSize
from agents.types import Unsupported


@dataclass(frozen=True)
class IterationSpace:
    """F's shape and the dims its reductions reduce; for a group norm, its node, input and
    group count (the lowering reads that node as the whole normalization)."""

    f_shape: tuple[Any, ...]
    reduced: tuple[int, ...]
    group_norm: tuple[FxNode, FxNode, Any] | None = None  # (op node, input, groups)

    @property
    def rank(self) -> int:
        return len(self.f_shape)


def same_shape(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return [str(s) for s in a] == [str(s) for s in b]


def norm_dims(dims: Any, rank: int) -> tuple[int, ...]:
    if dims is None or dims == []:
        return tuple(range(rank))
    if isinstance(dims, int):
        dims = [dims]
    return tuple(sorted(d % rank if rank else 0 for d in dims))


def output_nodes(gm: GraphModule) -> list[Any]:
    """What forward returns, as a list."""
    out = next(n for n in gm.graph.nodes if n.op == "output")
    res = out.args[0]
    return list(res) if isinstance(res, (list, tuple)) else [res]


def reduction_request(node: FxNode) -> tuple[FxNode, tuple[int, ...]] | None:
    """(tensor reduced, dims reduced) for an op that reduces, else None."""
    if is_matrix_vector(node):  # a matrix times a vector: each row's products summed
        return node.args[0], (1,)
    op = packet(node)
    if op not in REDUCTIONS | COMPOSITES | SCANS.keys():
        return None
    x, args, kw = node.args[0], node.args, node.kwargs
    rank = len(shape_of(x))
    if op in {"_softmax", "_log_softmax"} or op in SCANS:
        return x, norm_dims(args[1], rank)
    if op == "_native_batch_norm_legit":
        return x, tuple(d for d in range(rank) if d != 1)
    if op == "native_layer_norm":
        return x, tuple(range(rank - len(args[1]), rank))
    if op in {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"}:
        mode = args[2] if len(args) > 2 else kw.get("reduction", 1)
        return (x, tuple(range(rank))) if mode else None
    if op in {"linalg_vector_norm", "norm", "frobenius_norm"}:
        dims = args[2] if len(args) > 2 else kw.get("dim")
        return x, norm_dims(dims, rank)
    dims = args[1] if len(args) > 1 else kw.get("dim")
    return x, norm_dims(dims, rank)


def group_norm_request(node: FxNode) -> tuple[FxNode, Any] | None:
    """(input, groups) for native_group_norm, or instance norm traced as a batch norm."""
    op = packet(node)
    if op == "native_group_norm":
        return node.args[0], node.args[6]
    if op == "_native_batch_norm_legit" and node.target._overloadname == "no_stats":
        view = node.args[0]
        if not (isinstance(view, FxNode) and view.op == "call_function"):
            return None  # a stage's buffer: the instance norm's input was computed
        if packet(view) in VIEWS and view.args[0].op == "placeholder":
            x = view.args[0]
            xs, vs = shape_of(x), shape_of(view)
            if len(xs) == len(vs) and is_one(vs[0]) and same_shape(xs[2:], vs[2:]):
                return x, xs[1]  # instance norm: one group per channel
    return None


def _several_kernels(nodes: list[FxNode], what: str) -> Unsupported:
    ops = sorted({f"aten.{packet(n)}" for n in nodes})
    return Unsupported(
        ops, f"the builtin agent fuses {what}; this graph needs several kernels; " + LLM_HINT
    )


def iteration_space(traced: Traced) -> IterationSpace:
    """F for the graph, or Unsupported when its reductions, group norms and matmuls need
    several kernels."""
    gm = traced.graph
    calls = [n for n in gm.graph.nodes if n.op == "call_function"]
    matmuls = [n for n in calls if packet(n) in MATMULS | CONVS and not is_matrix_vector(n)]
    groups = [(n, *g) for n in calls if (g := group_norm_request(n)) is not None]
    requests = [
        (n, *r)
        for n in calls
        if (r := reduction_request(n)) is not None and n not in [g[0] for g in groups]
    ]
    if matmuls:
        if len(matmuls) > 1 or requests or groups:
            others = [r[0] for r in requests] + [g[0] for g in groups]
            raise _several_kernels(matmuls + others, "one matmul or convolution with an epilogue")
        return IterationSpace(shape_of(matmuls[0]), ())
    if groups:
        if len(groups) > 1 or requests:
            others = [r[0] for r in requests] + [g[0] for g in groups]
            raise _several_kernels(others, "one group norm")
        return _group_space(traced, *groups[0])
    if not requests:
        outs = [
            o
            for o in output_nodes(gm)
            if isinstance(o, FxNode) and isinstance(o.meta.get("val"), torch.Tensor)
        ]
        shape = max((shape_of(o) for o in outs), key=len, default=())
        return IterationSpace(shape, ())
    shapes = {tuple(str(s) for s in shape_of(x)) for _, x, _ in requests}
    dims = {d for _, _, d in requests}
    if len(shapes) > 1 or len(dims) > 1:
        raise _several_kernels(
            [n for n, _, _ in requests], "reductions over one set of dims of one shape"
        )
    return IterationSpace(shape_of(requests[0][1]), requests[0][2])


def _group_space(traced: Traced, node: FxNode, x: FxNode, groups: Any) -> IterationSpace:
    """F = (N, G, C/G, *spatial), reducing everything after the groups."""
    request = (node, x, groups)
    n, c, *spatial = shape_of(x)
    if isinstance(groups, int):
        # the group count follows the attribute it came from, e.g. self.groups
        attrs = [k for k, v in traced.int_attrs.items() if v == groups]
        if len(attrs) == 1:
            groups = DerivedSize(f"self.{attrs[0]}")
    if str(groups) == str(c):
        per_group: Any = 1
    else:
        per_group = DerivedSize(f"{host_size(traced, c)} // {host_size(traced, groups)}")
    f = (n, groups, per_group, *spatial)
    return IterationSpace(f, tuple(range(2, len(f))), request)
