"""Ctrl-C and SIGTERM on the real `aikg run`: graceful stop, exit code, nothing lost."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import SWISH, rows, run_aikg


def start_and_wait_for(tmp_path: Path, env, event: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aikg", "run", SWISH, "--task-id", "s", "-q"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(t == event for _, t, _ in rows(tmp_path / "events.db", "s")):
            return proc
        time.sleep(0.01)
    proc.kill()
    raise AssertionError(f"the run never reached {event}")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_gracefully_and_resume_finishes(tmp_path: Path, aikg_env, sig, code) -> None:
    proc = start_and_wait_for(tmp_path, aikg_env, "device.leased")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert f"continue it with `aikg resume s --db {tmp_path / 'events.db'}`" in err
    events = rows(tmp_path / "events.db", "s")
    types = [t for _, t, _ in events]
    assert types[-1] == "task.interrupted"
    assert json.loads(events[-1][2])["signal"] == sig.name
    assert types.count("device.leased") == types.count("device.released")

    resumed = run_aikg(["resume", "s", "-q"], tmp_path, aikg_env)
    assert resumed.returncode == 0, resumed.stderr
    assert [t for _, t, _ in rows(tmp_path / "events.db", "s")][-1] == "task.finished"


def test_second_ctrl_c_stops_at_once(tmp_path: Path, aikg_env) -> None:
    proc = start_and_wait_for(tmp_path, aikg_env, "step.started")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    proc.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode in (130, -signal.SIGINT)
