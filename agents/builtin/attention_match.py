"""Find attention in a traced graph: `softmax(q @ kᵀ * scale [+ mask]) @ v`.

`F.scaled_dot_product_attention` traces into the same ops (its scale split over q and k,
`is_causal` a `where(tril(ones))` added to the scores), so one matcher takes both.
`match_attention` takes a graph that is only the attention (every tensor op on the matched
path: views and casts between its pieces, the masks' construction); `attention_within`
finds one on the inputs whose result the rest of the graph reads, for attention.py to
launch before the rest's stages.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.fx import Graph
from torch.fx import Node as FxNode

from agents.builtin.fx_nodes import packet, shape_of
from agents.builtin.reference import Traced

# views, and casts (SDPA computes fp16/bf16 in fp32 on the CPU: the kernel's accumulators are)
SHAPE_ONLY = {"view", "_unsafe_view", "reshape", "expand", "clone", "contiguous", "alias"}
SHAPE_ONLY |= {"_to_copy", "to", "convert_element_type"}
SOFTMAXES = {"_softmax", "_safe_softmax", "softmax"}
SCALAR_MULS = {"mul", "div"}
HOST_OPS = {operator.mul: "*", operator.truediv: "/", operator.pow: "**"}
HOST_OPS |= {operator.add: "+", operator.sub: "-"}


@dataclass
class AttentionSpec:
    """What the flash-attention kernel needs to know about the reference."""

    q: str  # host expressions of the inputs
    k: str
    v: str
    rank: int  # 3 (batch, seq, dim) or 4 (batch, heads, seq, dim)
    dtype: torch.dtype
    scale: list[str] = field(default_factory=list)  # host factors of the scores' scale
    causal: bool = False
    mask: str | None = None  # host expression of a mask input, broadcast to the scores
    mask_keeps: bool = False  # the mask is true (non-zero) where a score is kept, else added
    path: set[FxNode] = field(default_factory=set)  # the nodes the kernel computes
    batch: list[str] = field(default_factory=list)  # the leading (batch, head) sizes
    out_dtype: torch.dtype | None = None  # the result's dtype where it is not q's


class _NoMatch(Exception):
    pass


def _through_views(node: Any, path: set[FxNode]) -> Any:
    while isinstance(node, FxNode) and node.op == "call_function" and packet(node) in SHAPE_ONLY:
        path.add(node)
        node = node.args[0]
    return node


def _host_scalar(value: Any, hosts: dict[str, str]) -> str:
    """A scalar argument as host source: a literal, or sizes of the inputs and arithmetic."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    if not isinstance(value, FxNode) or value.op != "call_function":
        raise _NoMatch
    if value.target in HOST_OPS:
        a, b = (_host_scalar(x, hosts) for x in value.args)
        return f"({a} {HOST_OPS[value.target]} {b})"
    if packet(value) == "sym_size":
        source, dim = value.args
        if source.name not in hosts:
            raise _NoMatch
        return f"{hosts[source.name]}.shape[{dim}]"
    if packet(value) == "sym_float":
        return f"float({_host_scalar(value.args[0], hosts)})"
    raise _NoMatch


def _scaled_source(node: Any, spec: AttentionSpec, hosts: dict[str, str]) -> tuple[str, bool]:
    """(input host, transposed) of a matmul operand: views, scalar scaling and a transpose
    of its last two dims between it and an input."""
    transposed = False
    while True:
        node = _through_views(node, spec.path)
        if not isinstance(node, FxNode):
            raise _NoMatch
        if node.op == "placeholder":
            shape = [str(size) for size in shape_of(node)]
            if node.name not in hosts or len(shape) != spec.rank or shape[:-2] != spec.batch:
                raise _NoMatch  # another rank, or heads broadcast (grouped-query attention)
            return hosts[node.name], transposed
        op = packet(node)
        if op in SCALAR_MULS and isinstance(node.args[0], FxNode) and len(node.args) == 2:
            factor = _host_scalar(node.args[1], hosts)
            spec.scale.append(factor if op == "mul" else f"(1 / {factor})")
        elif op in ("transpose", "t") and _swaps_last_two(node):
            transposed = not transposed
        else:
            raise _NoMatch
        spec.path.add(node)
        node = node.args[0]


def _swaps_last_two(node: FxNode) -> bool:
    if packet(node) == "t":
        return True
    rank = len(shape_of(node))
    return {d % rank for d in node.args[1:3]} == {rank - 1, rank - 2}


def _kept_where(cond: Any, spec: AttentionSpec, hosts: dict[str, str]) -> None:
    """Record a condition that is true where a score is kept: tril(ones(L, S)) (causal),
    or a tensor input (a boolean mask, or one compared with 0)."""
    cond = _through_views(cond, spec.path)
    if isinstance(cond, FxNode) and packet(cond) == "tril":
        diagonal = cond.args[1] if len(cond.args) > 1 else 0
        ones = _through_views(cond.args[0], spec.path)
        if diagonal != 0 or not (isinstance(ones, FxNode) and packet(ones) == "ones"):
            raise _NoMatch
        if spec.causal:
            raise _NoMatch
        spec.causal = True
        spec.path.update({cond, ones})
        return
    if not (isinstance(cond, FxNode) and cond.op == "placeholder" and cond.name in hosts):
        raise _NoMatch
    if spec.mask is not None or cond.meta["val"].dim() > spec.rank:
        raise _NoMatch
    spec.mask, spec.mask_keeps = hosts[cond.name], True


def _dropped_where(cond: Any, spec: AttentionSpec, hosts: dict[str, str]) -> None:
    """A condition true where a score is dropped: `x == 0` or `~x` of a kept condition."""
    cond = _through_views(cond, spec.path)
    if not isinstance(cond, FxNode) or cond.op != "call_function":
        raise _NoMatch
    spec.path.add(cond)
    negated = packet(cond) in ("logical_not", "bitwise_not")
    if negated or (packet(cond) == "eq" and _constant(cond.args[1]) == 0.0):
        _kept_where(cond.args[0], spec, hosts)
    else:
        raise _NoMatch


def _added_mask(other: Any, spec: AttentionSpec, hosts: dict[str, str]) -> None:
    """What is added to the scores: where(kept, 0, -inf) (SDPA's causal and boolean masks)
    or a float input (an additive mask)."""
    mask = _through_views(other, spec.path)
    if isinstance(mask, FxNode) and packet(mask) == "where":
        cond, keep, drop = mask.args
        if [_constant(keep), _constant(drop)] != [0.0, float("-inf")]:
            raise _NoMatch
        spec.path.update({mask, *(x for x in (keep, drop) if isinstance(x, FxNode))})
        _kept_where(cond, spec, hosts)
        return
    if not (isinstance(mask, FxNode) and mask.op == "placeholder" and mask.name in hosts):
        raise _NoMatch
    value = mask.meta["val"]
    if spec.mask is not None or not value.dtype.is_floating_point or value.dim() > spec.rank:
        raise _NoMatch
    spec.mask = hosts[mask.name]


def _constant(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, FxNode) and packet(value) == "scalar_tensor":
        return float(value.args[0])
    return None


def _scores(node: Any, spec: AttentionSpec, hosts: dict[str, str]) -> FxNode:
    """Walk from the softmax's input back to q @ kᵀ, collecting scale and mask."""
    while True:
        node = _through_views(node, spec.path)
        if not isinstance(node, FxNode) or node.op != "call_function":
            raise _NoMatch
        op = packet(node)
        if op in ("bmm", "mm"):
            return node
        spec.path.add(node)
        if op in SCALAR_MULS and len(node.args) == 2 and not _is_tensor(node.args[1]):
            factor = _host_scalar(node.args[1], hosts)
            spec.scale.append(factor if op == "mul" else f"(1 / {factor})")
        elif op == "add" and len(node.args) == 2 and _is_tensor(node.args[1]):
            _added_mask(node.args[1], spec, hosts)
        elif op == "masked_fill" and _constant(node.args[2]) == float("-inf"):
            _dropped_where(node.args[1], spec, hosts)
        else:
            raise _NoMatch
        node = node.args[0]


def _is_tensor(value: Any) -> bool:
    return isinstance(value, FxNode) and isinstance(value.meta.get("val"), torch.Tensor)


def match_attention(traced: Traced) -> AttentionSpec | None:
    """The attention the graph computes, or None when it is not (only) attention."""
    graph: Graph = traced.graph.graph
    hosts = {p.node_name: p.host for p in traced.placeholders}
    output = next(n for n in graph.nodes if n.op == "output").args[0]
    results = list(output) if isinstance(output, (list, tuple)) else [output]
    if len(results) != 1:
        return None
    spec = _attempt(graph, results[0], hosts)
    if spec is None:
        return None
    inputs = {spec.q, spec.k, spec.v} | ({spec.mask} if spec.mask else set())
    for node in graph.nodes:
        if node.op == "placeholder":
            if node.users and hosts.get(node.name) not in inputs:
                return None
        elif _is_tensor(node) and node.users and node not in spec.path:
            return None  # other tensor work: not only attention
    return spec


def attention_within(traced: Traced) -> tuple[AttentionSpec, FxNode] | None:
    """An attention on the inputs whose result the rest of the graph reads: its spec and
    the node of its result (after the views back to the inputs' rank)."""
    graph: Graph = traced.graph.graph
    hosts = {p.node_name: p.host for p in traced.placeholders}
    for pv in graph.nodes:
        if pv.op != "call_function" or packet(pv) not in ("bmm", "mm"):
            continue
        result = pv
        while len(result.users) == 1 and packet(next(iter(result.users))) in SHAPE_ONLY:
            result = next(iter(result.users))
        spec = _attempt(graph, result, hosts)
        inner = spec.path - {result} if spec else set()
        # sizes may be read elsewhere, and dead nodes (a cast of the softmax) read nothing
        users = [u for node in inner for u in node.users if _is_tensor(u) and u.users]
        if spec and all(user in spec.path for user in users):
            return spec, result
    return None


def _attempt(graph: Graph, result: Any, hosts: dict[str, str]) -> AttentionSpec | None:
    try:
        return _match(graph, result, hosts)
    except (_NoMatch, IndexError, KeyError, ValueError, TypeError):
        return None


def _match(graph: Graph, result: Any, hosts: dict[str, str]) -> AttentionSpec | None:
    """The attention whose result is `result`, its inputs graph inputs (or views of them)."""
    path: set[FxNode] = set()
    pv = _through_views(result, path)
    if not (isinstance(pv, FxNode) and packet(pv) in ("bmm", "mm")):
        return None
    probabilities = _through_views(pv.args[0], path)
    if not (isinstance(probabilities, FxNode) and packet(probabilities) in SOFTMAXES):
        return None
    rank = len(shape_of(probabilities))
    if probabilities.args[1] % rank != rank - 1 or rank not in (3, 4):
        return None
    dtype = probabilities.meta["val"].dtype
    batch = [str(size) for size in shape_of(probabilities)[:-2]]
    spec = AttentionSpec("", "", "", rank, dtype, path=path | {pv, probabilities}, batch=batch)
    qk = _scores(probabilities.args[0], spec, hosts)
    spec.path.add(qk)
    spec.q, q_transposed = _scaled_source(qk.args[0], spec, hosts)
    spec.k, k_transposed = _scaled_source(qk.args[1], spec, hosts)
    spec.v, v_transposed = _scaled_source(pv.args[1], spec, hosts)
    if q_transposed or not k_transposed or v_transposed:
        return None
    by_host = {hosts.get(n.name): n for n in graph.nodes if n.op == "placeholder"}
    dtypes = {by_host[h].meta["val"].dtype for h in (spec.q, spec.k, spec.v)}
    if len(dtypes) != 1:
        return None
    spec.dtype = dtypes.pop()  # the operands' dtype, which the kernel's dots take
    result_dtype = result.meta["val"].dtype
    spec.out_dtype = None if result_dtype == spec.dtype else result_dtype
    return spec
