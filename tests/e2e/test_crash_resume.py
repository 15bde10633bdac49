"""SIGKILL `aikg run` at many points of a real run, resume it, and check nothing is lost.

Each case starts the real command against a scripted OpenAI-compatible server (replies
streamed slowly, so kills land inside LLM calls as well as between appends and during
verification), kills it with SIGKILL as soon as the log holds K events, then runs
`aikg resume` to the end.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import SWISH, by_role, llm_flags, rows, run_aikg, said, story
from tests.support.openai_server import ScriptedOpenAIServer

# A full run (design, wrong kernel, fixed kernel) holds 21 events (one more for each
# llm.partial of a slow reply); every K from 1 up is a distinct kill point: after
# task.created, inside each LLM call, around each append, while the verifier runs, just
# before task.finished.
KILL_AFTER = list(range(1, 23))


def kill_when(proc: subprocess.Popen[str], db: Path, stream: str, count: int) -> list:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen = rows(db, stream)
        if len(seen) >= count or proc.poll() is not None:
            break
        time.sleep(0.003)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return rows(db, stream)


@pytest.mark.slow
@pytest.mark.parametrize("count", KILL_AFTER)
def test_sigkill_then_resume(tmp_path: Path, aikg_env, count: int) -> None:
    db = tmp_path / "events.db"
    with ScriptedOpenAIServer(responder=by_role(chunk_delay_s=0.01)) as server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aikg",
                "run",
                SWISH,
                "--task-id",
                "c",
                "-q",
                *llm_flags(server.base_url),
            ],
            cwd=tmp_path,
            env=aikg_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        before = kill_when(proc, db, "c", count)
        assert before, "the run was killed before it recorded anything"
        asked_before = len(server.requests)
        resumed = run_aikg(["resume", "c", "--json", "-q"], tmp_path, aikg_env)
        finished_before = before[-1][1] == "task.finished"  # the kill came after the end
        final = rows(db, "c")
        killed = f"killed after: {story(before)}\nfinal: {story(final)}"
        assert resumed.returncode == (1 if finished_before else 0), f"{killed}\n{said(resumed)}"
        after_requests = server.requests[asked_before:]

    assert final[: len(before)] == before, killed  # nothing lost, nothing rewritten
    assert [seq for seq, _, _ in final] == list(range(1, len(final) + 1)), killed  # no gap
    types = [t for _, t, _ in final]
    assert types[-1] == "task.finished" and json.loads(final[-1][2])["success"], killed
    if len(before) < len(final) and types[len(before) - 1] != "task.finished":
        assert "task.resumed" in types[len(before) :], killed
    assert types.count("device.leased") == types.count("device.released"), killed

    # no LLM call completed before the kill was made again after it
    asked = {}
    for _, t, payload in before:
        data = json.loads(payload)
        if t == "llm.requested":
            asked[data["call_id"]] = data["messages"]
        elif t == "llm.responded":
            done = asked[data["call_id"]]
            again = [r for r in after_requests if r.body["messages"] == done]
            assert not again, f"call {data['call_id']} was made again after the resume; {killed}"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
