"""A long-run command (`aikg bench`, `aikg batch`) killed for good part-way, and its log."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.support.signals import default_sigint


def aikg_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "aikg", *args]


def kill_when(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    ready: Callable[[str], bool],
    timeout_s: float,
) -> str:
    """Start `command`, SIGKILL its whole process group (verifier workers included) once
    `ready(its stderr so far)`; returns the stderr it wrote."""
    return signal_when(command, cwd, env, ready, timeout_s, signal.SIGKILL)[0]


def signal_when(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    ready: Callable[[str], bool],
    timeout_s: float,
    sig: signal.Signals,
) -> tuple[str, int]:
    """Start `command`, send `sig` to its whole process group once `ready(its stderr so
    far)` (as a terminal's Ctrl-C does with SIGINT), wait for it to end; returns the stderr
    it wrote and its exit status."""
    log = cwd / "killed.stderr"
    with log.open("w") as err:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            preexec_fn=default_sigint,
        )
    deadline = time.monotonic() + timeout_s
    try:
        while not ready(log.read_text()):
            assert proc.poll() is None, f"ended before it was stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"not ready in time:\n{log.read_text()}"
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout_s)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    return log.read_text(), proc.returncode


def run_again(
    command: list[str], cwd: Path, env: dict[str, str], first_line: str
) -> subprocess.CompletedProcess[str]:
    """The same command again, to its end: exit 0, its first line starting `first_line`."""
    again = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr[-3000:]
    first = again.stderr.splitlines()[0]
    assert first.startswith(first_line), first
    return again


def created_per_op(db: Path) -> Counter[str]:
    """How many `task.created` events the log holds for each op_name."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT payload FROM events WHERE type = 'task.created'").fetchall()
    finally:
        conn.close()
    return Counter(json.loads(payload)["op_name"] for (payload,) in rows)
