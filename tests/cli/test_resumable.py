"""Which streams of a real log a run again takes over: exact settings, newest first, one
task each; `--fresh` none; a stream another process still writes is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from aikg.commands import UsageError
from aikg.commands.resumable import take_over
from aikg.config import load_config
from machine import events as ev
from machine.task import Task
from store import EventStore, NewEvent

REPO = Path(__file__).resolve().parents[2]
SWISH = (REPO / "examples" / "swish.py").read_text()


def task(db: Path, limit_steps: int = 2, source: str = SWISH) -> Task:
    config = load_config(overrides={"db": str(db)})
    return Task("swish", source, config=config, limit_steps=limit_steps)


async def record(store: EventStore, made: Task, finished: bool) -> str:
    created = made.created_event()
    events: list[ev.Event] = [created]
    if finished:
        events.append(ev.TaskFinished(True, "verified", "verified", 1))
    await store.append(made.task_id, [NewEvent(e.TYPE, e.to_payload(), e.VERSION) for e in events])
    return made.task_id


async def test_matches_by_exact_settings_and_takes_each_stream_once(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with await EventStore.open(db) as store:
        old_done = await record(store, task(db), finished=True)
        newer_cut = await record(store, task(db), finished=False)  # SIGKILLed: no end event
        await record(store, task(db, limit_steps=3), finished=True)  # other settings
        await record(store, task(db, source=SWISH + "\n# edited\n"), finished=True)
    again = [task(db), task(db), task(db)]  # three identical task files
    found = await take_over(db, again, fresh=False)
    assert [t.task_id for t in again[:2]] == [newer_cut, old_done]  # newest first
    assert set(found.resumed) == {0} and set(found.kept) == {1}
    assert again[2].task_id not in (newer_cut, old_done)  # no stream left: it starts
    assert found.line("batch") == (
        "aikg batch: 1 of 3 already finished, 1 interrupted, 1 to start, resuming "
        "(--fresh starts over)"
    )
    fresh = [task(db)]
    assert (await take_over(db, fresh, fresh=True)).line("batch") is None
    assert fresh[0].task_id not in (newer_cut, old_done)


async def test_a_stream_still_being_written_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with await EventStore.open(db) as store:  # this process: a live writer
        running = await record(store, task(db), finished=False)
        with pytest.raises(UsageError, match=f"task {running} of this run is still being run"):
            await take_over(db, [task(db)], fresh=False)
    again = [task(db)]
    assert len((await take_over(db, again, fresh=False)).resumed) == 1  # closed: resumable
    assert again[0].task_id == running
