"""A search round's LLM calls are in flight together, against a scripted OpenAI-compatible
server on 127.0.0.1 whose replies to a round come back last-asked-first: every request of
the round reaches the server before it sends any reply. The log still records the round in
node order; a SIGKILL with the calls in flight is resumed with each node made once and only
the calls in flight made again, and `aikg replay` matches the recording (docs/search.md)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SWISH, rows
from tests.e2e.kernels import DESIGN, SWISH_KERNEL, WRONG_KERNEL, fenced
from tests.support.aikg_cli import KEY_ENV, llm_flags
from tests.support.long_run import aikg_command, kill_when
from tests.support.openai_server import RecordedRequest, ScriptedOpenAIServer, Step
from tests.support.search_prompts import assert_siblings_have_own_directions, prompts_by_node

WIDTH = 3
SEARCH = ["--search", "beam", "--width", str(WIDTH), "--budget-steps", str(1 + WIDTH)]
# the k-th child request of a round (in arrival order) gets its own kernel and reply delay:
# the first asked answers last
BLOCKS = (512, 256, 2048)
DELAYS_S = (3.0, 2.0, 1.0)


class RoundModel:
    """Answers like a model: a design, a wrong root kernel, then right kernels for its
    children, each child's reply held back by its place in the round."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.children = 0

    def __call__(self, body: dict[str, Any]) -> Step:
        text = json.dumps(body["messages"])
        if "design" in body["messages"][0]["content"].lower()[:200]:
            return Step.reply(DESIGN)
        if "Parent candidate" not in text:
            return Step.reply(fenced(WRONG_KERNEL))
        with self.lock:
            place = self.children % WIDTH
            self.children += 1
        kernel = SWISH_KERNEL.replace("1024", str(BLOCKS[place]))
        return Step.delay(DELAYS_S[place], fenced(kernel))


def child_requests(server: ScriptedOpenAIServer) -> list[RecordedRequest]:
    return [r for r in server.requests if "Parent candidate" in json.dumps(r.body["messages"])]


def events_of(db: Path, stream: str, kind: str) -> list[dict[str, Any]]:
    return [json.loads(payload) for _, type_, payload in rows(db, stream) if type_ == kind]


def code_by_step(db: Path, stream: str) -> dict[int, str]:
    return {e["step"]: e["code"] for e in events_of(db, stream, "code.produced")}


def assert_in_flight_together(requests: list[RecordedRequest]) -> None:
    """Every request arrived before any of them could be answered (no reply comes sooner
    than the shortest delay), so the round's calls were made at once, not one by one."""
    arrivals = [r.received_at for r in requests]
    spread = max(arrivals) - min(arrivals)
    assert spread < min(DELAYS_S), f"the round's requests arrived over {spread:.2f} s"


@pytest.mark.slow
def test_a_rounds_calls_overlap_resume_and_replay_in_node_order(
    tmp_path: Path, aikg: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    db = tmp_path / "events.db"
    env = {**os.environ, "AIKG_DB": str(db), KEY_ENV: "sk-test"}
    with ScriptedOpenAIServer(responder=RoundModel()) as server:
        flags = [*SEARCH, *llm_flags(server.base_url)]
        command = aikg_command("run", SWISH, "--task-id", "e", "-q", *flags)
        # killed with the round's calls in flight: each asked, none answered yet
        kill_when(command, tmp_path, env, lambda _: len(child_requests(server)) >= WIDTH, 120)
        assert_in_flight_together(child_requests(server))
        assert not events_of(db, "e", "code.produced")[1:], "killed after round 2's replies"

        resumed = aikg("resume", "e", "-q", env={KEY_ENV: "sk-test"})
        assert resumed.returncode == 0, resumed.stderr
        redone = child_requests(server)[WIDTH:]
        assert len(redone) == WIDTH  # the calls in flight are made again, once each
        assert_in_flight_together(redone)
        asked_first = prompts_by_node(child_requests(server)[:WIDTH])

    # the failed root's children: a repair, then two other directions, each in its prompt;
    # resume asks for each node with the same prompt as before the kill
    ideas = {e["node_id"]: e["idea"] for e in events_of(db, "e", "node.created")}
    assert sorted(asked_first) == ["n2", "n3", "n4"]
    assert_siblings_have_own_directions(asked_first, ideas)
    assert prompts_by_node(redone) == asked_first

    for kind in ("node.created", "code.produced", "verify.finished"):
        steps = [e["step"] for e in events_of(db, "e", kind)]
        assert steps == [1, 2, 3, 4], f"{kind}: {steps}"  # each node once, in node order
    # asked in node order (the design and n1, the round cut off, the round again) ...
    asked = events_of(db, "e", "llm.requested")
    assert [e["step"] for e in asked] == [1, 1, 2, 3, 4, 2, 3, 4]
    # ... and answered last-asked-first: the results above are still in node order
    step_of = {e["call_id"]: e["step"] for e in asked}
    answered = [step_of[e["call_id"]] for e in events_of(db, "e", "llm.responded")]
    assert answered[2:] != [2, 3, 4], "the round was answered in node order"
    assert len(set(code_by_step(db, "e").values())) == 1 + WIDTH
    replayed = aikg("replay", "e")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "replay matches the recording" in replayed.stdout
