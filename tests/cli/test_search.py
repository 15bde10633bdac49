"""`aikg run --search beam` on a suite task with the built-in agent, through the real
command: a tree of verified nodes, SIGKILL in the middle and resume with nothing made or
verified twice, then `aikg replay` re-drives the identical tree (docs/search.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import rows

REPO = Path(__file__).resolve().parents[2]
TASK = str(REPO / "benchmarks" / "suite" / "pointwise_elu.py")
SEARCH = ["--search", "beam", "--width", "3", "--budget-steps", "7", "--task-type", "profile"]


def _per_step(events: list[tuple[int, str, str]], kind: str) -> Counter[int]:
    return Counter(json.loads(payload)["step"] for _, type_, payload in events if type_ == kind)


@pytest.mark.slow
def test_beam_tree_survives_sigkill_and_replays(
    tmp_path: Path, aikg: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    db = tmp_path / "events.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aikg", "run", TASK, "--task-id", "b", "-q", *SEARCH],
        cwd=tmp_path,
        env={**os.environ, "AIKG_DB": str(db)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    # killed inside round 2: its nodes made, some verified, the rest in flight
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(_per_step(rows(db, "b"), "verify.finished").values()) >= 2:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = rows(db, "b")
    assert len(before) > 0 and before[-1][1] != "task.finished", "killed too late to test resume"

    resumed = aikg("resume", "b", "-q", "--json")
    assert resumed.returncode == 0, resumed.stderr
    final = rows(db, "b")
    assert final[: len(before)] == before  # nothing rewritten
    for kind in ("node.created", "code.produced", "verify.finished"):
        counts = _per_step(final, kind)
        assert set(counts.values()) == {1}, f"{kind} repeated: {counts}"

    shown = json.loads(aikg("show", "b", "--json").stdout)
    candidates = shown["candidates"]
    verified = [c for c in candidates if c["status"] == "verified"]
    assert len(verified) >= 6
    assert [c["parent"] for c in candidates].count(None) == 1  # one root, the rest below it
    assert all(c["time_ms"] for c in verified)
    assert shown["best_step"] == min(verified, key=lambda c: c["time_ms"])["step"]

    replayed = aikg("replay", "b")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "replay matches the recording" in replayed.stdout

    forked = aikg("fork", "b", "--node", "n2", "--task-id", "f", "--budget-steps", "3", "-q")
    assert forked.returncode == 0, forked.stderr
    fork_nodes = json.loads(aikg("show", "f", "--json").stdout)["candidates"]
    assert [(c["id"], c["parent"]) for c in fork_nodes[:2]] == [("n1", None), ("n2", "n1")]
    assert len(fork_nodes) == 3 and fork_nodes[2]["parent"] in ("n1", "n2")
    assert aikg("replay", "f").returncode == 0  # the copied lineage is given, n3 re-driven

    exported = aikg("export", "b", "--node", "n2")
    assert exported.returncode == 0 and "BLOCK_SIZE = 2048" in exported.stdout
    missing = aikg("export", "b", "--node", "n99")
    assert missing.returncode == 2 and "no such node" in missing.stderr
