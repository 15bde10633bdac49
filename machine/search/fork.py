"""A new search started from one node of another task: the node's lineage (root to node)
copied as the new task's first nodes, renumbered n1..nK, so the search goes on from it."""

from __future__ import annotations

from dataclasses import replace

from machine import events as ev
from machine.search.tree import find_node, lineage, node_id_of, search_tree
from machine.state import fold

# The events of a node's step that a fork copies: what it produced and what was verified.
_NODE_RESULTS = (ev.CodeProduced, ev.CodeMissing, ev.VerifyFinished)


class ForkError(ValueError):
    """The node cannot start a search; the message names why and what to pick instead."""


def lineage_events(events: list[ev.Event], wanted: str) -> list[ev.Event]:
    """The design and the nodes from the root down to node `wanted` (after `task.created`)."""
    nodes = search_tree(fold(enumerate(events, start=1)))
    node = find_node(nodes, wanted)
    if node is None:
        known = ", ".join(n.node_id for n in nodes) or "none"
        raise ForkError(f"--node {wanted}: no such node (the task's nodes: {known})")
    if not node.done:
        raise ForkError(f"--node {wanted}: {node.node_id} is still {node.status}; resume it first")
    if node.attempt.repeat_of is not None:
        first = node_id_of(node.attempt.repeat_of)
        raise ForkError(
            f"--node {wanted}: {node.node_id} repeats {first}'s code: fork from {first}"
        )
    path = lineage(nodes, node)
    numbers = {n.step: number for number, n in enumerate(path, start=1)}
    designs = [e for e in events if isinstance(e, ev.DesignProduced) and e.step <= node.step]
    copied: list[ev.Event] = [ev.StepStarted(1, "design", "first step")]
    copied += [replace(designs[-1], step=1)] if designs else []
    for n in path:
        number = numbers[n.step]
        parents = [node_id_of(number - 1)] if number > 1 else []
        copied.append(
            ev.NodeCreated(
                number, node_id_of(number), parents, n.agent, n.idea, n.alternative, number
            )
        )
        if number > 1:
            copied.append(ev.StepStarted(number, "code", n.idea))
        copied += [
            replace(e, step=number)
            for e in events
            if isinstance(e, _NODE_RESULTS) and e.step == n.step
        ]
    return copied
