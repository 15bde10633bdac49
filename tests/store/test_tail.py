"""tail(): every event in position order, then the ones appended later, from anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from store import EventStore, NewEvent, StoredEvent

POLL_S = 0.02


async def take(events: AsyncIterator[StoredEvent], n: int, timeout_s: float = 20.0):
    async def collect() -> list[StoredEvent]:
        return [await anext(events) for _ in range(n)]

    return await asyncio.wait_for(collect(), timeout_s)


async def test_tail_yields_existing_then_later_events_from_another_connection(
    store_factory,
) -> None:
    writer = await store_factory()
    await writer.append("a", [NewEvent("x", {"i": 0})])
    other_writer = await store_factory()
    reader = await store_factory(readonly=True)
    tail = reader.tail(poll_s=POLL_S)
    first = await take(tail, 1)
    assert [(e.stream, e.seq) for e in first] == [("a", 1)]

    pending = asyncio.ensure_future(take(tail, 3))
    await asyncio.sleep(5 * POLL_S)
    assert not pending.done()
    await other_writer.append("b", [NewEvent("x", {"i": 1})])
    await writer.append("a", [NewEvent("x", {"i": 2}), NewEvent("x", {"i": 3})])
    later = await pending
    assert [e.payload["i"] for e in later] == [1, 2, 3]
    assert [e.position for e in later] == sorted(e.position for e in later)


async def test_tail_starts_after_a_position(store: EventStore) -> None:
    appended = await store.append("a", [NewEvent("x", {"i": i}) for i in range(5)])
    rest = await take(store.tail(after_position=appended[2].position, poll_s=POLL_S), 2)
    assert rest == appended[3:]


async def test_tail_sees_events_appended_by_another_process(
    store_factory, db_path: Path, spawn
) -> None:
    store = await store_factory()
    await store.append("a", [NewEvent("x", {})])
    tail = store.tail(after_position=await store.last_position(), poll_s=POLL_S)
    pending = asyncio.ensure_future(take(tail, 4, timeout_s=60.0))
    worker = await spawn("append_worker", str(db_path), "b", "other", "4")
    assert await worker.read_line() == "ready"
    worker.send_line()
    await worker.finish()
    got = await pending
    assert [(e.stream, e.seq, e.payload) for e in got] == [
        ("b", i + 1, {"writer": "other", "i": i}) for i in range(4)
    ]
