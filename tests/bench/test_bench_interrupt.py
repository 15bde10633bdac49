"""Ctrl-C during `aikg bench` with tasks running and tasks waiting: one line, exit 130."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.support.long_run import aikg_command, created_per_op, signal_when

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"
TASKS = ("pointwise_elu", "pointwise_selu", "pointwise_gelu_tanh", "norm_softmax")


def test_ctrl_c_stops_running_and_waiting_tasks_with_one_line_and_no_traceback(
    tmp_path: Path,
) -> None:
    db = tmp_path / "events.db"
    env = {**os.environ, "AIKG_DB": str(db)}
    files = [str(SUITE / f"{name}.py") for name in TASKS]
    command = aikg_command(
        "bench", *files, "--out", str(tmp_path / "out"), "--limit-steps", "4",
        "--devices", "cpu:0,cpu:1",  # two run, two wait for a device
    )  # fmt: skip

    def two_running(_stderr: str) -> bool:
        return db.exists() and sum(created_per_op(db).values()) >= 2

    stderr, status = signal_when(command, tmp_path, env, two_running, 240, signal.SIGINT)
    assert status == 130, stderr[-3000:]
    assert "aikg: bench interrupted by SIGINT; run the same command again" in stderr
    for noise in ("Traceback", "never retrieved", "Exception ignored"):
        assert noise not in stderr, stderr[-3000:]
