"""Telling a writer that still runs from one that is gone, and the busy timeout's settings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aikg.config import ConfigError, load_config
from store.writers import Writer, process_start


def writer(pid: int, started: str | None, host: str | None = None) -> Writer:
    return Writer(1, host or socket.gethostname(), pid, started, None, 0.0, None)


def test_a_writer_is_running_only_while_its_very_process_lives() -> None:
    me = os.getpid()
    assert writer(me, process_start(me)).liveness() == "running"
    assert writer(me, "1").liveness() == "gone"  # the pid was reused by another process
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert writer(int(done.stdout), None).liveness() == "gone"
    assert writer(me, process_start(me), host="elsewhere").liveness() == "unknown"


def test_busy_timeout_is_a_config_key_and_a_flag(tmp_path: Path) -> None:
    assert load_config().store.busy_timeout_s == 30
    user = tmp_path / "aikg.yaml"
    user.write_text("store:\n  busy_timeout_s: 0\n")
    with pytest.raises(ConfigError, match=r"store\.busy_timeout_s"):
        load_config(user)
    bad = subprocess.run(
        [sys.executable, "-m", "aikg", "run", "task.py", "--busy-timeout", "soon"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "--busy-timeout: 'soon' is not a positive number of seconds, e.g. 60" in bad.stderr
