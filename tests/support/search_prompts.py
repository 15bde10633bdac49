"""Reading a search's coder prompts back from the scripted server: which node each asked
for, and whether the children of one round each carry their own direction."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from machine.search.directions import listed_directions
from tests.support.openai_server import RecordedRequest

NODE_HEADING = re.compile(r"^## This candidate: node (n\d+)", re.MULTILINE)


def node_named(body: dict[str, Any]) -> str | None:
    """The node a chat request's prompt asks for (None for one naming none: the design)."""
    found = NODE_HEADING.search(body["messages"][-1]["content"])
    return found.group(1) if found else None


def prompts_by_node(requests: Iterable[RecordedRequest]) -> dict[str, str]:
    """Each node's coder prompt (the user message), by the node id it names; the last one
    asked for a node when it was asked twice."""
    return {
        node: request.body["messages"][-1]["content"]
        for request in requests
        if (node := node_named(request.body)) is not None
    }


def assert_siblings_have_own_directions(prompts: dict[str, str], ideas: dict[str, str]) -> None:
    """The prompts of one parent's children differ, each carries its node's recorded idea,
    each idea a listed direction or a repair, and no two children share a direction."""
    assert len(set(prompts.values())) == len(prompts), "two children got the same prompt"
    taken: list[str] = []
    for node, prompt in prompts.items():
        idea = ideas[node]
        assert idea in prompt, f"{node}'s idea {idea!r} is not in its prompt"
        direction = [d for d in listed_directions() if idea.endswith(f": {d}")]
        assert direction or idea.startswith("repair "), f"{node}'s idea {idea!r} has no direction"
        taken += direction
    assert len(set(taken)) == len(taken), f"siblings share a direction: {taken}"
