"""`aikg bench` killed (SIGKILL) after its first task, then the same command again."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.long_run import aikg_command, created_per_op, kill_when, run_again

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"
TASKS = ("pointwise_elu", "pointwise_selu")


def test_bench_again_keeps_what_finished_and_resumes_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    env = {**os.environ, "AIKG_DB": str(db)}
    files = [str(SUITE / f"{name}.py") for name in TASKS]
    command = aikg_command("bench", *files, "--out", str(tmp_path / "out"), "--limit-steps", "2")

    def second_started(stderr: str) -> bool:  # the first finished, the second recorded
        return "[1/2]" in stderr and sum(created_per_op(db).values()) == 2

    killed = kill_when(command, tmp_path, env, second_started, timeout_s=240)
    assert "1/2 done, 1 verified" in killed and "\x1b[" not in killed  # plain lines
    found = "aikg bench: 1 of 2 already finished, 1 interrupted"
    again = run_again(command, tmp_path, env, found)
    assert created_per_op(db) == {name: 1 for name in TASKS}  # nothing finished re-created
    assert "[2/2]" in again.stderr and "2/2 done, 2 verified" in again.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {row["op_name"]: row["status"] for row in report["rows"]} == dict.fromkeys(
        TASKS, "verified"
    )
