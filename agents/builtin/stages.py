"""Graphs that need several kernels: the partitioner that cuts a graph into stages.

One kernel fuses the reductions over one set of dims of one shape, one group norm, or one
matmul with its epilogue (a signature). A graph whose reductions, group norms and matmuls
have several signatures (`x.sum(1).amax()`, the KL divergence of two log-softmaxes, a GEMM
then a logsumexp or a group norm, two linears in a row) is cut
into stages, one per signature and depth: each stage is lowered (lowering.py) into its
own kernel, and `ModelNew.forward` launches the stages in order. What a later stage reads
from an earlier one goes through a buffer the host allocates with `torch.empty`; pointwise
work on the inputs alone (a mask of ignored targets) is recomputed where it is needed.

A sum, mean, max or min over all the dims of a tensor whose rows another reduction
reduces is first split into that row reduction and a reduction of the per-row results:
the first stage then reads each input once and the second reduces one value per row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch.fx import Graph, GraphModule
from torch.fx import Node as FxNode

from agents.builtin.adaptive_pooling import ADAPTIVE_POOLS
from agents.builtin.attention import lower_attention
from agents.builtin.conv_lowering import CONVS, convolution_operands
from agents.builtin.errors import LLM_HINT
from agents.builtin.exclusive_scans import with_exclusive_scans_fused
from agents.builtin.fx_nodes import packet, shape_of
from agents.builtin.iteration_space import group_norm_request, reduction_request
from agents.builtin.lowered import Lowered, Stage
from agents.builtin.lowering import lower
from agents.builtin.matmul_rows import fuse_matmul_rows
from agents.builtin.one_element_reductions import without_one_element_reductions
from agents.builtin.op_families import CONSTANTS, MATMULS, VIEWS
from agents.builtin.plan_assembly import reachable_loads
from agents.builtin.pooling import POOLS
from agents.builtin.reference import Placeholder, Traced
from agents.builtin.values import Output, Plan
from agents.builtin.view_lowering import INDEX_VIEWS, SPLIT_VIEWS
from agents.types import Unsupported

aten = torch.ops.aten
# sizes (a convolution output's H * W for its group norm) are recomputed by each stage
SIZES = (torch.SymInt, int)
Signature = tuple[tuple[str, ...], tuple[int, ...]]
# reductions that split into a per-row reduction and one over the rows (max/min: values only)
SPLITS = {
    "sum": aten.sum.dim_IntList,
    "mean": aten.mean.dim,
    "amax": aten.amax.default,
    "amin": aten.amin.default,
    "max": aten.amax.default,
    "min": aten.amin.default,
}

# views a load's index arithmetic takes, and ops a chain of views passes through
FOLDED_VIEWS = {"view", "reshape", "_unsafe_view"} | INDEX_VIEWS | SPLIT_VIEWS
PASS_THROUGH = VIEWS | {"clone", "contiguous", "alias"}


# ---- which kernel computes what ---------------------------------------------------------
def _signatures(graph: Graph) -> dict[FxNode, Signature]:
    """What each kernel-bounding node computes: a reduction's (input shape, reduced dims), a
    group norm's input shape and group count, and for each matmul or convolution, and each
    pooling of a computed value, its own name (two never share a kernel). Nodes of different
    signatures go to different kernels."""
    signatures: dict[FxNode, Signature] = {}
    for node in graph.nodes:
        if node.op != "call_function":
            continue
        if packet(node) in MATMULS | CONVS:
            signatures[node] = ((f"matmul {node.name}",), ())
        elif packet(node) in POOLS | ADAPTIVE_POOLS.keys() and _computed(
            node.args[0], PASS_THROUGH
        ):
            # a pool of a computed value loads its windows from that value's buffer
            signatures[node] = ((f"pool {node.name}",), ())
        elif (group := group_norm_request(node)) is not None:
            x, groups = group
            signatures[node] = (("group norm", *(str(s) for s in shape_of(x)), str(groups)), ())
        elif (request := reduction_request(node)) is not None:
            x, dims = request
            signatures[node] = (tuple(str(s) for s in shape_of(x)), dims)
    return signatures


def _splittable(node: FxNode) -> bool:
    op = packet(node)
    if op not in SPLITS or node.kwargs:
        return False
    if op in ("max", "min"):
        return len(node.args) == 1  # max(x): the value only
    return not (len(node.args) > 2 and node.args[2])  # no keepdim


def _reduce(graph: Graph, op: str, x: FxNode, dims: list[int], name: str) -> FxNode:
    node = graph.create_node("call_function", SPLITS[op], (x, dims, False), name=name)
    node.meta["val"] = SPLITS[op](x.meta["val"], dims, False)
    return node


def _split_reductions(graph: Graph, signatures: dict[FxNode, Signature]) -> None:
    """A reduction whose dims strictly contain the dims another reduction takes over the
    same shape becomes that per-row reduction, then a reduction of its result."""
    for node, (shape, dims) in list(signatures.items()):
        inner = next((d for s, d in signatures.values() if s == shape and set(d) < set(dims)), ())
        if not inner or not _splittable(node):
            continue
        op = packet(node)
        kept = [d for d in range(len(shape)) if d not in inner]
        rest = [i for i, d in enumerate(kept) if d in dims]
        with graph.inserting_before(node):
            rows = _reduce(graph, op, node.args[0], list(inner), f"row_{op}")
            total = _reduce(graph, op, rows, rest, f"{op}_of_rows")
        node.replace_all_uses_with(total)
        graph.erase_node(node)


def _stage_keys(graph: Graph, signatures: dict[FxNode, Signature]) -> dict[FxNode, Any]:
    """(depth, signature) of each reduction; reductions with the same key share a kernel.

    A reduction comes after the reductions it reads (one level later when their signature
    differs). Where its consumers leave room, it joins the latest level that already has a
    kernel of its signature, so a target count joins the kernel that sums the losses.
    """
    above: dict[FxNode, set[FxNode]] = {}  # nearest reductions upstream
    for node in graph.nodes:
        above[node] = set()
        for arg in node.all_input_nodes:
            above[node] |= {arg} if arg in signatures else above[arg]
    order = [n for n in graph.nodes if n in signatures]
    earliest: dict[FxNode, int] = {}
    for r in order:
        steps = (earliest[p] + (signatures[p] != signatures[r]) for p in above[r])
        earliest[r] = max(steps, default=0)
    last = max(earliest.values(), default=0)
    depth: dict[FxNode, int] = {}
    for r in reversed(order):
        consumers = [c for c in depth if r in above[c]]
        latest = min((depth[c] - (signatures[c] != signatures[r]) for c in consumers), default=last)
        levels = {depth[o] for o in depth if signatures[o] == signatures[r]}
        joins = [d for d in range(earliest[r], latest + 1) if d in levels]
        depth[r] = max(joins, default=earliest[r])
    return {r: (depth[r], signatures[r]) for r in order}


def _stage_of(graph: Graph, signatures: dict[FxNode, Signature]) -> tuple[dict[FxNode, int], int]:
    """Stage index of each node that depends on a reduction, and the number of stages.

    Other nodes (inputs and pointwise work on them alone) have none: each stage that needs
    them recomputes them.
    """
    keys = _stage_keys(graph, signatures)
    first: dict[Any, int] = {}  # keys in order of appearance
    for key in keys.values():
        first.setdefault(key, len(first))
    index = {key: i for i, key in enumerate(sorted(first, key=lambda k: (k[0], first[k])))}
    stage: dict[FxNode, int] = {}
    last = len(index) - 1
    spaces = {index[key]: key[1] for key in index}  # each stage's signature
    broadcast_stage = False
    for node in graph.nodes:
        if node in keys:
            stage[node] = index[keys[node]]
        elif node.op == "call_function" and not isinstance(node.meta.get("val"), SIZES):
            inputs = [stage[a] for a in node.all_input_nodes if a in stage]
            if inputs:
                stage[node] = max(inputs)
                if stage[node] == last and _outside(node, spaces[last]):
                    stage[node], broadcast_stage = last + 1, True
    _views_to_consumers(graph, stage)
    return stage, len(index) + broadcast_stage


def _outside(node: FxNode, signature: Signature) -> bool:
    """Whether a pointwise node of a reduction's stage makes a tensor of another shape than
    the reduced one or its rows (a row statistic added to a tensor of another width): its
    own stage then reads the statistic from a buffer."""
    shape, dims = signature
    value = node.meta.get("val")
    if not dims or not isinstance(value, torch.Tensor) or packet(node) in PASS_THROUGH:
        return False
    if packet(node) in FOLDED_VIEWS | {"getitem"}:
        return False
    own = [str(size) for size in value.shape]
    kept = [size for d, size in enumerate(shape) if d not in dims]
    rows = [("1" if d in dims else size) for d, size in enumerate(shape)]
    return own not in (list(shape), kept, rows) and any(size != "1" for size in own)


def _views_to_consumers(graph: Graph, stage: dict[FxNode, int]) -> None:
    """A view of an earlier stage's result goes to the stage that reads it, which reads
    the buffer through the view's index arithmetic (`linear(x).view(n, g, -1).sum(2)`: the
    matmul stage writes its tile as it is, the reduction reads it as (n, g, c/g))."""
    for node in reversed(graph.nodes):
        if node not in stage or packet(node) not in FOLDED_VIEWS | PASS_THROUGH:
            continue
        consumers = {stage.get(user, -1) for user in node.users}
        if len(consumers) == 1 and (later := consumers.pop()) > stage[node]:
            stage[node] = later


# ---- one graph per stage -----------------------------------------------------------------
def _stage_graph(
    graph: Graph, stage: dict[FxNode, int], number: int, outputs: list[FxNode]
) -> tuple[Graph, list[FxNode]]:
    """The nodes stage `number` computes for its outputs, and the nodes it reads (inputs,
    earlier stages' buffers) as placeholders."""

    def computed_here(n: FxNode) -> bool:
        return n.op == "call_function" and stage.get(n, number) == number

    needed: set[FxNode] = set()
    todo = list(outputs)
    while todo:
        node = todo.pop()
        if node not in needed:
            needed.add(node)
            if computed_here(node):
                todo.extend(node.all_input_nodes)
    reads = [n for n in graph.nodes if n in needed and not computed_here(n)]
    sub = Graph()
    env: dict[FxNode, FxNode] = {}
    for node in reads:
        env[node] = sub.placeholder(node.name)
        env[node].meta = dict(node.meta)
    for node in graph.nodes:
        if node in needed and computed_here(node):
            env[node] = sub.node_copy(node, env.__getitem__)
    sub.output(env[outputs[0]] if len(outputs) == 1 else tuple(env[o] for o in outputs))
    return sub, reads


def _host_names(results: list[FxNode], stage: dict[FxNode, int]) -> dict[FxNode, str]:
    """out/out<i> for the forward's results, <node>_buf for the buffers between stages."""
    names: dict[FxNode, str] = {}
    for i, node in enumerate(results):
        names.setdefault(node, "out" if len(results) == 1 else f"out{i}")
    for node in stage:
        names.setdefault(node, f"{node.name}_buf")
    return names


def _lower_stage(
    traced: Traced, graph: Graph, reads: list[FxNode], writes: list[FxNode], names: dict
) -> Plan:
    hosts = {p.node_name: p for p in traced.placeholders}
    placeholders = [hosts.get(n.name) or Placeholder(n.name, names[n], "buffer") for n in reads]
    stage_traced = replace(
        traced,
        graph=GraphModule(traced.graph, graph),
        placeholders=placeholders,
        output_is_tuple=len(writes) > 1,
    )
    plan = lower(stage_traced)
    outputs = [_renamed(o, names[n]) for o, n in zip(plan.outputs, writes, strict=True)]
    # an input read only for its size (sym_size) needs no pointer
    roots = [o.value for o in outputs] + plan.reductions
    used = {v.source for v in reachable_loads(roots)}
    if plan.dot is not None:  # the matmul's operands are read by its K loop
        used |= {plan.dot.a.source, plan.dot.b.source}
    if plan.conv is not None:  # so are the convolution's input and weight
        used |= {plan.conv.x, plan.conv.w}
    sources = [s for s in plan.sources if s.name in used]
    return replace(plan, outputs=outputs, sources=sources)


def _renamed(output: Output, name: str) -> Output:
    """An output under its host name; a view it is returned through follows the name."""
    returned = name + output.returned[len(output.name) :] if output.returned else ""
    return replace(output, name=name, returned=returned)


def _staged(traced: Traced, graph: Graph, signatures: dict[FxNode, Signature]) -> Lowered:
    return _lower_stages(traced, graph, *_stage_of(graph, signatures))


def _lower_stages(traced: Traced, graph: Graph, stage: dict[FxNode, int], count: int) -> Lowered:
    returned = next(n for n in graph.nodes if n.op == "output").args[0]
    results = list(returned) if isinstance(returned, (tuple, list)) else [returned]
    if not all(isinstance(r, FxNode) for r in results):
        raise Unsupported(["<output>"], "forward returns a non-tensor; " + LLM_HINT)
    names = _host_names(results, stage)
    stages: list[Stage] = []
    for number in range(count):
        members = [n for n in graph.nodes if stage.get(n) == number]
        writes = [
            n for n in members if n in results or any(stage.get(u, -1) > number for u in n.users)
        ]
        if number == 0:  # results computed from the inputs alone
            writes += [n for n in dict.fromkeys(results) if n not in stage]
        sub, reads = _stage_graph(graph, stage, number, writes)
        plan = _lower_stage(traced, sub, reads, writes, names)
        stages.append(
            Stage(
                plan,
                reads=[names[n] for n in reads if n in stage],
                writes=[names[n] for n in writes if n not in results],
            )
        )
    return Lowered(traced, stages, [names[n] for n in results])


def _copied_values(graph: Graph) -> set[FxNode]:
    """The computed values that views or a `cat` read (`(x + 1).view(...)`): a kernel
    cannot fold such a view into a load, so a copy stage writes the value to a buffer. So
    do a convolution's computed input and weight (`conv(relu(x))`): its kernel gathers them
    by index arithmetic from memory."""
    copied = set()
    for node in graph.nodes:
        if node.op == "call_function" and packet(node) in CONVS:
            copied |= convolution_operands(node)
        if node.op == "call_function" and packet(node) in POOLS | ADAPTIVE_POOLS.keys():
            # so does a pool's (`max_pool2d(relu(conv(x)))`): it loads each window position
            pooled = _computed(node.args[0], PASS_THROUGH)
            copied |= {pooled} if pooled is not None else set()
        if node.op != "call_function" or packet(node) not in FOLDED_VIEWS | {"cat"}:
            continue
        for x in node.args[0] if packet(node) == "cat" else [node.args[0]]:
            source = _computed(x, FOLDED_VIEWS | PASS_THROUGH)
            copied |= {source} if source is not None else set()
    return copied


def _computed(x: Any, through: set[str]) -> FxNode | None:
    """The computed value under the views `through`; None for an input or a constant (a
    constant is recomputed where it is read)."""
    while isinstance(x, FxNode) and packet(x) in through:
        x = x.args[0]
    if isinstance(x, FxNode) and x.op == "call_function" and packet(x) not in CONSTANTS:
        return x
    return None


def _tensors(val: Any) -> bool:
    """A tensor, or a tuple of them (max pooling's values and indices), not a size."""
    if isinstance(val, (tuple, list)):
        return bool(val) and all(isinstance(v, torch.Tensor) for v in val)
    return isinstance(val, torch.Tensor)


def _with_copy_stages(traced: Traced, error: Unsupported) -> Lowered:
    """Stages cut after each value a view reads: a stage computes it into a buffer, the
    next reads the buffer through the view's index arithmetic."""
    graph = traced.graph.graph
    cuts = _copied_values(graph)
    if not cuts:
        raise error
    feeds: set[FxNode] = set()  # the cut values and what they are computed from
    todo = list(cuts)
    while todo:
        node = todo.pop()
        if node.op == "call_function" and node not in feeds:
            feeds.add(node)
            todo.extend(node.all_input_nodes)
    # other work on the inputs alone, and sizes, are recomputed where they are needed
    stage: dict[FxNode, int] = {}
    for node in graph.nodes:
        if node.op != "call_function" or not _tensors(node.meta.get("val")):
            continue
        after = [stage[a] + (a in cuts) for a in node.all_input_nodes if a in stage]
        if after or node in feeds:
            stage[node] = max(after, default=0)
    try:
        return _lower_stages(traced, graph, stage, max(stage.values()) + 1)
    except Unsupported:
        raise error from None


def _after_one_kernel_failed(traced: Traced, error: Unsupported) -> Lowered:
    """A graph of one signature that one kernel cannot take: copy stages for views of
    computed values, or a stage for a row statistic broadcast onto another shape."""
    try:
        return _with_copy_stages(traced, error)
    except Unsupported:
        pass
    graph = traced.graph.graph
    stage, count = _stage_of(graph, _signatures(graph))
    if count < 2:
        raise error
    try:
        return _lower_stages(traced, graph, stage, count)
    except Unsupported:
        raise error from None


def lower_graph(traced: Traced) -> Lowered:
    """One fused kernel where one suffices, else stages (raises Unsupported)."""
    traced = with_exclusive_scans_fused(without_one_element_reductions(traced))
    attention = lower_attention(traced, lower_rest=lower_graph)
    if attention is not None:
        return attention
    signatures = _signatures(traced.graph.graph)
    if len(set(signatures.values())) <= 1:
        try:
            plan = lower(traced)
        except Unsupported as error:
            return _after_one_kernel_failed(traced, error)
        return Lowered(traced, [Stage(plan, [], [])], [o.name for o in plan.outputs])
    graph = Graph()  # a copy to rewrite: the traced graph stays as traced
    graph.output(graph.graph_copy(traced.graph.graph, {}))
    graph.eliminate_dead_code()  # e.g. nll_loss's unused total weight
    _split_reductions(graph, _signatures(graph))
    return fuse_matmul_rows(_staged(traced, graph, _signatures(graph)))
