"""`aikg run --search evolve` with an LLM coder (a scripted OpenAI-compatible server on
127.0.0.1): each node's prompt carries its parent's code and verifier feedback, a node of
the third round is shown another branch's kernel, and each call is recorded on its node's
step (docs/search.md)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SWISH, rows
from tests.e2e.kernels import DESIGN, SWISH_KERNEL, WRONG_KERNEL, fenced
from tests.support.aikg_cli import KEY_ENV, llm_flags
from tests.support.openai_server import ScriptedOpenAIServer, Step

# the root fails; every later node is a correct kernel with its own block size
KERNELS = [WRONG_KERNEL] + [SWISH_KERNEL.replace("1024", str(b)) for b in (512, 256, 2048, 128)]


def scripted() -> Callable[[dict[str, Any]], Step]:
    lock, served = threading.Lock(), []

    def respond(body: dict[str, Any]) -> Step:
        if "design" in body["messages"][0]["content"].lower()[:200]:
            return Step.reply(DESIGN)
        with lock:
            kernel = KERNELS[min(len(served), len(KERNELS) - 1)]
            served.append(kernel)
        return Step.reply(fenced(kernel))

    return respond


@pytest.mark.slow
def test_evolve_prompts_carry_parents_feedback_and_inspirations(
    tmp_path: Path, aikg: Callable[..., Any]
) -> None:
    search = ["--search", "evolve", "--width", "2", "--budget-steps", "5"]
    with ScriptedOpenAIServer(responder=scripted()) as server:
        done = aikg(
            "run", SWISH, "--task-id", "e", "--task-type", "profile", "-q", "--json",
            *search, *llm_flags(server.base_url), env={KEY_ENV: "sk-test"},
        )  # fmt: skip
        prompts = [json.dumps(r.body["messages"]) for r in server.requests]
    assert done.returncode == 0, done.stderr

    code_prompts = [p for p in prompts if "tl.sigmoid" in p]  # those that show a kernel
    round_two = [p for p in code_prompts if "tl.sigmoid(x)" in p]  # n1's wrong kernel
    assert len(round_two) >= 2 and all("mismatch" in p for p in round_two)  # its feedback
    shown = [p for p in code_prompts if "Other candidates of this search" in p]
    assert shown, "no prompt showed another branch's kernel"

    candidates = json.loads(aikg("show", "e", "--json").stdout)["candidates"]
    assert [c["status"] for c in candidates] == ["failed"] + ["verified"] * 4
    assert [c["parent"] for c in candidates[:3]] == [None, "n1", "n1"]
    assert {c["agent"] for c in candidates} == {"openai:scripted"}

    events = rows(tmp_path / "events.db", "e")
    steps = [json.loads(p)["step"] for _, t, p in events if t == "llm.requested"]
    assert sorted(steps) == [1, 1, 2, 3, 4, 5]  # the design and n1 on step 1, then one per node
