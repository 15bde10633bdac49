"""Reductions over dims of size 1 taken out of a traced graph before it is partitioned.

`x.max(dim=1, keepdim=True)` of an (N, 1) tensor is its input (squeezed where keepdim is
off): a kernel cannot take a reduced dim that its values do not walk, and such a reduction
is no stage boundary.
"""

from __future__ import annotations

import torch
from torch.fx import Graph
from torch.fx import Node as FxNode

from agents.builtin.fx_nodes import packet, shape_of
from agents.builtin.graph_rewrites import rewritten
from agents.builtin.iteration_space import reduction_request
from agents.builtin.reference import Traced

aten = torch.ops.aten

# reductions whose result over one element is that element
ONE_ELEMENT = {"sum", "mean", "amax", "amin", "prod", "logsumexp", "max", "min"}


def without_one_element_reductions(traced: Traced) -> Traced:
    """The graph without reductions over dims of size 1 (`x.max(dim=1, keepdim=True)` of an
    (N, 1) tensor): each is its input, squeezed where keepdim is off. A kernel cannot take
    a reduced dim that its values do not walk, and such a reduction is no stage boundary."""
    return rewritten(traced, _drop_one_element_reductions)


def _drop_one_element_reductions(graph: Graph) -> bool:
    changed = False
    for node in list(graph.nodes):
        op = packet(node) if node.op == "call_function" else ""
        request = reduction_request(node) if op in ONE_ELEMENT else None
        if request is None or not isinstance(request[0], FxNode):
            continue
        x, dims = request
        value = x.meta["val"]
        if not value.dtype.is_floating_point or any(shape_of(x)[d] != 1 for d in dims):
            continue
        keepdim = node.args[2] if len(node.args) > 2 else node.kwargs.get("keepdim", False)
        with graph.inserting_before(node):
            result = x if keepdim else graph.call_function(aten.squeeze.dims, (x, list(dims)))
        result.meta.setdefault("val", value if keepdim else value.squeeze(dims))
        if op in ("max", "min") and len(node.args) > 1:  # (values, indices)
            if any(user.args[1] != 0 and user.users for user in node.users):
                continue  # the indices are read: left to the kernels
            for user in list(node.users):
                if user.args[1] == 0:
                    user.replace_all_uses_with(result)
                graph.erase_node(user)
        else:
            node.replace_all_uses_with(result)
        graph.erase_node(node)
        changed = True
    return changed
