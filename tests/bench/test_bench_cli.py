"""`aikg bench` on the CPU: every suite task, small shapes, real runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"
# Every task of the suite, at small shapes (about 3 minutes on two cores).
SUITE_TASKS = sorted(path.stem for path in SUITE.glob("[!_]*.py"))


def test_bench_reports_correctness_on_the_cpu(tmp_path: Path) -> None:
    env = {**os.environ, "AIKG_DB": str(tmp_path / "events.db")}
    proc = subprocess.run(
        [sys.executable, "-m", "aikg", "bench", str(SUITE), "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"[{len(SUITE_TASKS)}/{len(SUITE_TASKS)}]" in proc.stderr  # progress while it runs
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["correctness_only"] is True
    statuses = {row["op_name"]: row["status"] for row in report["rows"]}
    assert len(SUITE_TASKS) >= 49
    not_verified = {k: v for k, v in statuses.items() if v != "verified"}
    assert not not_verified, not_verified
    assert set(statuses) == set(SUITE_TASKS)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "not speedups" in markdown
    _assert_time_breakdown_shown(report, markdown, env)
    assert {row["family"] for row in report["rows"]} >= {
        "pointwise",
        "reduction",
        "norm",
        "matmul",
        "scan",
        "loss",
    }


def _assert_time_breakdown_shown(report: dict, markdown: str, env: dict[str, str]) -> None:
    """Each task's verification time breakdown is in the report, and `aikg show` (text and
    --json) gives it per step."""
    assert "## Where the verification time went" in markdown
    assert all(row["verify_time"]["trials_s"] > 0 for row in report["rows"])
    assert all(row["verify_time"]["gpu_busy_fraction"] is None for row in report["rows"])
    listed = subprocess.run(
        [sys.executable, "-m", "aikg", "ls", "--json"], env=env, capture_output=True, text=True
    )
    tasks = json.loads(listed.stdout)
    task_id = next(t["task_id"] for t in tasks if t["op_name"] == "pointwise_elu")
    shown = subprocess.run(
        [sys.executable, "-m", "aikg", "show", task_id], env=env, capture_output=True, text=True
    )
    after = shown.stdout.split("where the verification time went:\n", 1)[1].splitlines()
    assert after[0].strip().startswith("step 1: ") and "trials" in after[0]
    assert "GPU busy n/a" in after[0]
    as_json = subprocess.run(
        [sys.executable, "-m", "aikg", "show", task_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert json.loads(as_json.stdout)["verify_time"][0]["step"] == 1


def test_bench_bad_input_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "AIKG_DB": str(tmp_path / "events.db")}
    proc = subprocess.run(
        [sys.executable, "-m", "aikg", "bench", str(SUITE), "--filter", "no-such-task"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no task files matched" in proc.stderr


def test_a_failed_row_says_what_the_verifier_said() -> None:
    from aikg.bench.suite import SuiteTask
    from aikg.commands.bench import row_for
    from machine import events as ev
    from machine.state import fold
    from tests.machine.samples import SAMPLES

    events = [
        SAMPLES["task.created"],
        ev.StepStarted(1, "code", "first step"),
        ev.CodeProduced(1, "code", "builtin"),
        ev.VerifyFinished(1, "cpu", {"passed": False, "stage": "mismatch", "message": "off"}),
        ev.TaskFinished(False, "limit_reached", "no kernel verified in 1 steps", 1),
    ]
    row = row_for(SuiteTask(Path("scan.py"), "scan", "scan"), fold(enumerate(events, 1)), 2.0)
    assert row.status == "failed" and row.steps == 1
    assert row.message.endswith("rejected at mismatch: off")
