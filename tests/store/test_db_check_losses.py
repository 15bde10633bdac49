"""`aikg db check` finds what concurrent use lost: a stream whose writer died before
finishing it, and a -wal removed under a running writer (which that writer also reports)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def db_check(db: Path) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "aikg", "db", "check", "--json", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, json.loads(done.stdout)


async def test_a_running_writer_is_a_note_and_a_dead_one_a_loss(db_path: Path, spawn) -> None:
    writer = await spawn("task_starter", str(db_path), "t1")
    assert await writer.read_line() == "ready"
    code, report = db_check(db_path)
    assert (code, report["problems"]) == (0, [])
    assert report["notes"] == [
        f"t1: still being written by pid {writer.proc.pid} on {os.uname().nodename}"
    ]

    writer.proc.send_signal(signal.SIGKILL)
    await writer.proc.wait()
    code, report = db_check(db_path)
    assert code == 1
    (problem,) = report["problems"]
    assert problem.startswith("t1: stopped at seq 2 (step.started) without task.finished")
    assert f"(pid {writer.proc.pid} on {os.uname().nodename}) died" in problem
    assert problem.endswith(f"died; resume it: `aikg resume t1 --db {db_path}`")


async def test_a_writer_that_closed_without_finishing_is_a_note(db_path: Path, spawn) -> None:
    writer = await spawn("task_starter", str(db_path), "t1")
    assert await writer.read_line() == "ready"
    writer.send_line("close")
    await writer.finish()
    code, report = db_check(db_path)
    assert (code, report["problems"]) == (0, [])
    assert report["notes"] == [
        "t1: stopped at seq 2 (step.started) without task.finished: its writer "
        f"(pid {writer.proc.pid} on {os.uname().nodename}) closed the log; "
        f"resume it: `aikg resume t1 --db {db_path}`"
    ]


async def test_a_wal_removed_under_a_running_writer_is_found(db_path: Path, spawn) -> None:
    writer = await spawn("task_starter", str(db_path), "t1")
    assert await writer.read_line() == "ready"
    Path(f"{db_path}-wal").unlink()  # as a careless backup tool or a network filesystem would
    code, report = db_check(db_path)
    assert code == 1
    assert report["problems"] == [
        f"{db_path}-wal is missing beside its -shm: it was removed while a connection had it "
        "open, so the commits it held are lost"
    ]
    writer.send_line("append")
    assert (await writer.read_line()).startswith(f"the -wal file of {db_path} was removed")
