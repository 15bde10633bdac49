"""Which nodes a search round expands and what each new child tries. Pure functions of the
tree, so a resumed or replayed search plans the same rounds (docs/search.md).

- beam: the best `width` verified nodes (fastest first), or while none is verified the
  `width` most promising failures (those that got furthest through the verifier).
- evolve: the `width` nodes with the highest upper-confidence score over the lineage tree:
  how fast the best kernel below a node is, plus a bonus for nodes little explored.

An agent that lists alternatives in a candidate's notes (the built-in agent: launch
configurations, `notes["alternatives"]`) gets each child of that node assigned the untried
alternative nearest its parent's in the list. One that lists none (an LLM) gets a child with
its own direction (machine/search/directions.py), shown inspirations from other branches
under beam as under evolve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from machine.describe import launch_config_text
from machine.search.directions import REPAIR, Directions
from machine.search.tree import Node, lineage

EXPLORATION = 0.7  # evolve: weight of the bonus for little-explored nodes


@dataclass(frozen=True)
class Plan:
    """One child a round adds: its parent (None for the root), idea and assigned alternative."""

    parent: Node | None
    idea: str
    alternative: dict[str, Any] | None = None
    inspirations: tuple[Node, ...] = ()


def plan_round(strategy: str, nodes: list[Node], width: int, steps_left: int) -> list[Plan]:
    """The children of the next round: at most `width` and `steps_left`; none when done."""
    if steps_left <= 0:
        return []
    if not nodes:
        return [Plan(None, "first candidate")]
    parents = evolve_parents(nodes, width) if strategy == "evolve" else beam_parents(nodes, width)
    claimed = [_tried(n) for n in nodes]
    directions = Directions(nodes)
    plans: list[Plan] = []
    limit = min(width, steps_left)
    while len(plans) < limit:
        added = False
        for parent in parents:
            if len(plans) >= limit:
                break
            plan = _child_of(parent, claimed, directions)
            if plan is None:
                continue
            if strategy == "evolve" or parent.listed_alternatives is None:
                plan = Plan(plan.parent, plan.idea, plan.alternative, inspirations(nodes, parent))
            plans.append(plan)
            added = True
        if not added:
            break
    return plans


def beam_parents(nodes: list[Node], width: int) -> list[Node]:
    verified = sorted(
        (n for n in nodes if n.status == "verified"),
        key=lambda n: (n.time_ms is None, n.time_ms or 0.0, n.step),
    )
    if verified:
        return verified[:width]
    failed = [n for n in nodes if n.status == "failed"]
    return sorted(failed, key=lambda n: (-n.promise, -n.step))[:width]


def evolve_parents(nodes: list[Node], width: int) -> list[Node]:
    expandable = [n for n in nodes if n.status in ("verified", "failed")]
    if not expandable:
        return []
    children: dict[str | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent, []).append(node)
    fastest = min((n.time_ms for n in nodes if n.time_ms), default=None)
    total = math.log(len(nodes) + 1)

    def subtree(node: Node) -> list[Node]:
        below = [node]
        for child in children.get(node.node_id, []):
            below += subtree(child)
        return below

    def score(node: Node) -> float:
        below = subtree(node)
        times = [n.time_ms for n in below if n.time_ms]
        if times and fastest:
            reward = fastest / min(times)
        elif any(n.status == "verified" for n in below):
            reward = 1.0
        else:
            reward = max(n.promise for n in below) / 10
        return reward + EXPLORATION * math.sqrt(total / len(below))

    return sorted(expandable, key=lambda n: (-score(n), n.step))[:width]


def inspirations(nodes: list[Node], parent: Node) -> tuple[Node, ...]:
    """From branches other than `parent`'s (neither its ancestors nor below it): their best
    kernel and their latest failure."""
    ancestors = _ancestry(nodes, parent)
    others = [
        n for n in nodes if n.node_id not in ancestors and parent.node_id not in _ancestry(nodes, n)
    ]
    verified = [n for n in others if n.status == "verified"]
    failed = [n for n in others if n.status == "failed"]
    shown: list[Node] = []
    if verified:
        shown.append(min(verified, key=lambda n: (n.time_ms or math.inf, n.step)))
    if failed:
        shown.append(failed[-1])
    return tuple(shown)


def _ancestry(nodes: list[Node], node: Node) -> set[str]:
    return {n.node_id for n in lineage(nodes, node)}


def _tried(node: Node) -> dict[str, Any] | None:
    config = node.attempt.notes.get("launch_config")
    return dict(config) if config else node.alternative


def _child_of(
    parent: Node, claimed: list[dict[str, Any] | None], directions: Directions
) -> Plan | None:
    alternatives = parent.listed_alternatives
    if alternatives is None:
        return Plan(parent, _free_idea(parent, directions.next_for(parent)))
    choice = nearest_untried(alternatives, _tried(parent), claimed)
    if choice is None:
        return None
    claimed.append(choice)
    return Plan(parent, launch_config_text(choice), choice)


def nearest_untried(
    alternatives: Sequence[dict[str, Any]],
    current: dict[str, Any] | None,
    claimed: list[dict[str, Any] | None],
) -> dict[str, Any] | None:
    """The alternative not yet tried or claimed that is nearest `current` in list order."""
    here = alternatives.index(current) if current in alternatives else 0
    untried = [i for i, a in enumerate(alternatives) if a not in claimed]
    if not untried:
        return None
    return dict(alternatives[min(untried, key=lambda i: (abs(i - here), i))])


def _free_idea(parent: Node, direction: str) -> str:
    if direction == REPAIR:
        return f"repair {parent.node_id} ({parent.stage})"
    if parent.status == "verified":
        timed = f" ({parent.time_ms:.4g} ms)" if parent.time_ms else ""
        return f"a faster kernel than {parent.node_id}{timed}: {direction}"
    return f"another approach than {parent.node_id} (failed at {parent.stage}): {direction}"
