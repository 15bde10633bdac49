"""`aikg batch` killed (SIGKILL) after its first task, then the same command again."""

from __future__ import annotations

import os
from pathlib import Path

from tests.batch.test_batch_cli import RELU
from tests.support.long_run import aikg_command, created_per_op, kill_when, run_again

REPO = Path(__file__).resolve().parents[2]


def test_batch_again_keeps_what_finished_and_resumes_the_rest(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "relu3.py").write_text(RELU)
    (tasks / "swish.py").write_text((REPO / "examples" / "swish.py").read_text())
    db = tmp_path / "events.db"
    env = {**os.environ, "AIKG_DB": str(db)}
    command = aikg_command("batch", "tasks", "--concurrency", "1", "--limit-steps", "2")
    killed = kill_when(command, tmp_path, env, lambda err: "[1/2]" in err, timeout_s=240)
    assert "1/2 done, 1 verified" in killed and "\x1b[" not in killed  # plain lines
    found = "aikg batch: 1 of 2 already finished, 1 interrupted"
    again = run_again(command, tmp_path, env, found)
    assert created_per_op(db) == {"relu3": 1, "swish": 1}  # nothing finished re-created
    assert "[2/2]" in again.stderr and "2/2 done, 2 verified" in again.stderr
    results = {
        line.split()[1].rsplit("-", 3)[0]: line.split()[0]
        for line in again.stdout.splitlines()[1:3]
    }
    assert results == {"relu3": "verified", "swish": "verified"}
    assert "2/2 verified" in again.stdout
