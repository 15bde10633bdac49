"""The optimisation directions a search gives the children of a node whose agent lists no
alternatives (an LLM's), so that siblings of one parent are not sent the same prompt
(the list: configs/search_ideas.yaml; docs/search.md, "Directions").

A child of a verified parent gets the listed direction its earlier siblings used least,
the one its parent tried only when no other is free, first in list order on a tie. The
first child of a failed parent repairs it; later ones take another direction the same way.
A node's direction is recomputed from the tree (its parent's and its earlier siblings'),
never read back from its idea text, so resume, replay and fork plan the same children and
an agent's own idea cannot change it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import yaml

from machine.search.tree import Node

IDEAS_FILE = "search_ideas.yaml"  # package data in configs/
REPAIR = "repair"  # what the first child of a failed parent is given instead of a direction


@lru_cache(maxsize=1)
def listed_directions() -> tuple[str, ...]:
    """The directions of configs/search_ideas.yaml, in the order they are handed out."""
    source = files("configs").joinpath(IDEAS_FILE)
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    listed = data.get("directions") if isinstance(data, dict) else None
    lines = tuple(d.strip() for d in listed) if _one_liners(listed) else ()
    if not lines or len(set(lines)) != len(lines):
        raise ValueError(
            f"configs/{IDEAS_FILE}: 'directions' must be a non-empty list of distinct "
            "one-line strings; fix the file"
        )
    return lines


def _one_liners(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(d, str) and d.strip() and "\n" not in d.strip() for d in value
    )


class Directions:
    """The directions the search gave the nodes of one tree, and those it gives next."""

    def __init__(self, nodes: list[Node]) -> None:
        self._given: dict[str, str | None] = {}  # node id: a direction, REPAIR, or None
        self._tried: dict[str, str | None] = {}  # a repair's is its parent's
        self._by_parent: dict[str, list[str | None]] = {}  # what each node's children got
        by_id = {n.node_id: n for n in nodes}
        for node in sorted(nodes, key=lambda n: n.step):  # a parent comes before its children
            parent = by_id.get(node.parent) if node.parent else None
            given: str | None = None
            tried: str | None = None
            if parent is not None and parent.listed_alternatives is None:
                given = self.next_for(parent)
                tried = self._tried.get(parent.node_id) if given == REPAIR else given
            self._given[node.node_id] = given
            self._tried[node.node_id] = tried

    def given(self, node: Node) -> str | None:
        """What the search gave `node`: a listed direction, REPAIR, or None (a root, or a
        child the agent's own alternatives planned)."""
        return self._given.get(node.node_id)

    def tried(self, node: Node) -> str | None:
        """The direction `node` went in: its own, or for a repair the one it repairs."""
        return self._tried.get(node.node_id)

    def next_for(self, parent: Node) -> str:
        """The next child of `parent`'s: REPAIR or a direction; recorded as given."""
        given = self._by_parent.setdefault(parent.node_id, [])
        if parent.status == "failed" and REPAIR not in given:
            choice = REPAIR
        else:
            own, listed = self.tried(parent), listed_directions()  # read once an LLM needs it
            choice = min(listed, key=lambda d: (given.count(d), d == own, listed.index(d)))
        given.append(choice)
        return choice
