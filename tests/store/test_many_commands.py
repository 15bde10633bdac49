"""The real commands on one log, at once.

First a write lock that another process holds past `--busy-timeout` stops `aikg run` as
interrupted: exit 130 with the resume command, the stream ending at its last whole event.
Then two `aikg run`, an `aikg batch` and the `aikg resume` of that task write the log at
once, each holding two store connections (the task's and the device-occupancy
publisher's), while `aikg ls` and a tailing reader read it. Every stream must come out
complete (task.created .. task.finished) and gap-free, the integrity check must pass and
`aikg db check` must find nothing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.store.aikg_commands import aikg, integrity, stream_types, write_tiny_task
from tests.store.conftest import Launch, Spawn


async def list_until(stop: asyncio.Event, db: Path, cwd: Path) -> list[int]:
    codes = []
    while not stop.is_set():
        code, _, _ = await aikg("ls", "--db", str(db), cwd=cwd)
        codes.append(code)
        await asyncio.sleep(0.5)
    return codes


async def interrupt_by_lock(
    task_file: Path, db: Path, spawn: Spawn, launch: Launch
) -> list[tuple[int, str]]:
    """`aikg run --task-id r1` stopped by a lock held past its busy timeout: r1's events."""
    holder = await spawn("lock_holder", str(db), "r1", "2")  # locks after step.started
    run = await launch(
        "run",
        str(task_file),
        "--db",
        str(db),
        "--task-id",
        "r1",
        "--busy-timeout",
        "1",
        cwd=db.parent,
    )
    assert await holder.read_line(timeout_s=120.0) == "locked"
    _, err = await asyncio.wait_for(run.communicate(), 120)
    assert run.returncode == 130
    assert err.decode().splitlines()[-1] == (
        f"aikg: task r1 interrupted by a write lock on {db} held by another process for over "
        "1s (wait longer with --busy-timeout or store.busy_timeout_s); "
        f"continue it with `aikg resume r1 --db {db}`"
    )
    await holder.finish()  # releases the lock
    stopped = stream_types(db, "r1")
    assert [seq for seq, _ in stopped] == list(range(1, len(stopped) + 1))
    assert stopped[0] == (1, "task.created") and stopped[-1][1] != "task.finished"
    return stopped


async def test_locked_run_then_run_batch_and_resume_at_once(
    tmp_path: Path, spawn: Spawn, launch: Launch
) -> None:
    db = tmp_path / "events.db"
    task_file = write_tiny_task(tmp_path / "tiny.py")
    stopped = await interrupt_by_lock(task_file, db, spawn, launch)

    write_tiny_task(tmp_path / "batch" / "b1.py")
    reader = await spawn("log_reader")
    reader.send_line(str(db))
    stop_listing = asyncio.Event()
    listing = asyncio.ensure_future(list_until(stop_listing, db, tmp_path))
    writers = [
        await launch("run", str(task_file), "--task-id", "run1", "--db", str(db), cwd=tmp_path),
        await launch("run", str(task_file), "--task-id", "run2", "--db", str(db), cwd=tmp_path),
        await launch("batch", str(tmp_path / "batch"), "--db", str(db), cwd=tmp_path),
        await launch("resume", "r1", "--db", str(db), cwd=tmp_path),
    ]
    outputs = await asyncio.gather(*(asyncio.wait_for(w.communicate(), 240) for w in writers))
    stop_listing.set()
    ls_codes = await listing
    assert [w.returncode for w in writers] == [0, 0, 0, 0], [e.decode()[-500:] for _, e in outputs]
    assert ls_codes and set(ls_codes) == {0}
    assert (await reader.finish()).startswith("read ")

    _, listed, _ = await aikg("ls", "--db", str(db), cwd=tmp_path)
    streams = {line.split()[0] for line in listed.splitlines()[1:]}
    assert len(streams) == 4 and {"run1", "run2", "r1"} < streams
    for stream in streams:
        events = stream_types(db, stream)
        assert [seq for seq, _ in events] == list(range(1, len(events) + 1)), stream
        assert events[0][1] == "task.created" and events[-1][1] == "task.finished", (stream, events)
    resumed = stream_types(db, "r1")
    assert resumed[: len(stopped)] == stopped and resumed[len(stopped)][1] == "task.resumed"
    devices = stream_types(db, "devices")
    assert [seq for seq, _ in devices] == list(range(1, len(devices) + 1))
    assert integrity(db) == "ok"
    code, out, _ = await aikg("db", "check", "--json", "--db", str(db), cwd=tmp_path)
    assert (code, json.loads(out)["problems"]) == (0, [])
