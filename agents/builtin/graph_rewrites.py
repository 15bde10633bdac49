"""A traced graph rewritten on a copy, the traced one left as traced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from torch.fx import Graph, GraphModule

from agents.builtin.reference import Traced


def rewritten(traced: Traced, rewrite: Callable[[Graph], bool]) -> Traced:
    """`traced` with `rewrite` applied to a copy of its graph; `rewrite` says whether it
    changed anything (the same `traced` comes back when it did not), and the nodes it left
    unread are dropped."""
    graph = Graph()
    graph.output(graph.graph_copy(traced.graph.graph, {}))
    if not rewrite(graph):
        return traced
    graph.eliminate_dead_code()
    return replace(traced, graph=GraphModule(traced.graph, graph))
