"""Many writers, one stream: histories never fork and seq numbers have no gaps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from store import EventStore, NewEvent

PER_WRITER = 60


def assert_gapless(history, writers: list[str], per_writer: int) -> None:
    assert [e.seq for e in history] == list(range(1, len(writers) * per_writer + 1))
    positions = [e.position for e in history]
    assert positions == sorted(positions)
    for writer in writers:
        own = [e.payload["i"] for e in history if e.payload["writer"] == writer]
        assert own == list(range(per_writer))


@pytest.mark.parametrize("expected", [False, True], ids=["free", "expected_seq"])
async def test_two_processes_append_to_one_stream(
    store_factory, db_path: Path, spawn, expected: bool
) -> None:
    store = await store_factory()
    flags = ["--expected"] if expected else []
    workers = [
        await spawn("append_worker", str(db_path), "shared", name, str(PER_WRITER), *flags)
        for name in ("p1", "p2")
    ]
    for worker in workers:
        assert await worker.read_line(timeout_s=60.0) == "ready"
    for worker in workers:
        worker.send_line()
    await asyncio.gather(*(worker.finish(timeout_s=120.0) for worker in workers))
    assert_gapless(await store.read_stream("shared"), ["p1", "p2"], PER_WRITER)


async def test_two_connections_in_one_process_interleave_without_gaps(store_factory) -> None:
    stores: list[EventStore] = [await store_factory(), await store_factory()]

    async def write(store: EventStore, writer: str) -> None:
        for i in range(PER_WRITER):
            await store.append("shared", [NewEvent("x", {"writer": writer, "i": i})])

    await asyncio.gather(write(stores[0], "c1"), write(stores[1], "c2"))
    assert_gapless(await stores[0].read_stream("shared"), ["c1", "c2"], PER_WRITER)


async def test_concurrent_appends_on_one_store_object(store: EventStore) -> None:
    async def write(writer: str) -> None:
        for i in range(PER_WRITER // 3):
            await store.append("shared", [NewEvent("x", {"writer": writer, "i": i})])

    await asyncio.gather(*(write(f"t{k}") for k in range(3)))
    assert_gapless(await store.read_stream("shared"), ["t0", "t1", "t2"], PER_WRITER // 3)


async def test_cancelled_append_leaves_the_store_usable(store: EventStore) -> None:
    task = asyncio.ensure_future(store.append("a", [NewEvent("x", {"i": 0})]))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (after,) = await store.append("a", [NewEvent("x", {"i": 1})])
    assert after.seq == await store.last_seq("a")
    assert [e.seq for e in await store.read_stream("a")] == list(range(1, after.seq + 1))
