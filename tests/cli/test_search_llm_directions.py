"""`aikg run --search beam` with an LLM coder (a scripted OpenAI-compatible server on
127.0.0.1): the children of one parent are sent different prompts, each naming its node and
its own direction from configs/search_ideas.yaml; a child of a later round avoids its
parent's direction and is shown the other branches (docs/search.md, "Directions")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SWISH, rows
from tests.e2e.kernels import DESIGN, SWISH_KERNEL, fenced
from tests.support.aikg_cli import KEY_ENV, llm_flags
from tests.support.openai_server import ScriptedOpenAIServer, Step
from tests.support.search_prompts import (
    assert_siblings_have_own_directions,
    node_named,
    prompts_by_node,
)

WIDTH = 3
SEARCH = ["--search", "beam", "--width", str(WIDTH), "--budget-steps", str(2 + WIDTH)]
# every node's kernel is correct, with its own block size: the root's the slowest
BLOCKS = {"n1": 128, "n2": 512, "n3": 1024, "n4": 2048, "n5": 4096}


def respond(body: dict[str, Any]) -> Step:
    if "design" in body["messages"][0]["content"].lower()[:200]:
        return Step.reply(DESIGN)
    node = node_named(body)
    return Step.reply(fenced(SWISH_KERNEL.replace("1024", str(BLOCKS.get(node or "", 64)))))


@pytest.mark.slow
def test_beam_siblings_get_their_own_directions_and_later_children_other_branches(
    tmp_path: Path, aikg: Callable[..., Any]
) -> None:
    with ScriptedOpenAIServer(responder=respond) as server:
        done = aikg(
            "run", SWISH, "--task-id", "d", "--task-type", "profile", "-q", *SEARCH,
            *llm_flags(server.base_url), env={KEY_ENV: "sk-test"},
        )  # fmt: skip
        prompts = prompts_by_node(server.requests)
    assert done.returncode == 0, done.stderr
    created = [
        json.loads(p) for _, t, p in rows(tmp_path / "events.db", "d") if t == "node.created"
    ]
    ideas = {e["node_id"]: e["idea"] for e in created}
    parent = {e["node_id"]: (e["parents"] or [None])[0] for e in created}
    assert sorted(prompts) == sorted(BLOCKS)  # one prompt per node, each naming its node

    round_two = {n: prompts[n] for n in ("n2", "n3", "n4")}
    assert {parent[n] for n in round_two} == {"n1"}
    assert_siblings_have_own_directions(round_two, ideas)

    # round three: one child of the fastest of n2..n4, away from its parent's direction,
    # shown the best kernel of another branch
    last = parent["n5"]
    assert last in round_two, f"n5's parent is {last}"
    assert ideas["n5"] in prompts["n5"] and f"a child of {last}" in prompts["n5"]
    assert ideas["n5"].split(": ")[-1] != ideas[last].split(": ")[-1]
    assert "Other candidates of this search" in prompts["n5"]
    shown = created[-1]["parents"][1:]
    assert shown and set(shown) <= set(round_two) - {last}
