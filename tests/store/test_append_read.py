"""Appending and reading back: seq assignment, positions, ranges, payload fidelity, atomicity."""

from __future__ import annotations

import math
import time

import pytest

from store import (
    EventStore,
    InvalidPayload,
    NewEvent,
    ReadOnlyStore,
    StoreNotFound,
    StreamConflict,
    StreamInfo,
)


def events(n: int, type_: str = "test.event") -> list[NewEvent]:
    return [NewEvent(type_, {"i": i}) for i in range(n)]


async def test_new_store_is_empty(store: EventStore) -> None:
    assert await store.read_all() == []
    assert await store.streams() == []
    assert await store.last_seq("nothing") == 0
    assert await store.last_position() == 0


async def test_append_assigns_seq_from_one_per_stream(store: EventStore) -> None:
    first = await store.append("a", events(3))
    other = await store.append("b", events(2))
    more = await store.append("a", events(2))
    assert [e.seq for e in first + more] == [1, 2, 3, 4, 5]
    assert [e.seq for e in other] == [1, 2]
    positions = [e.position for e in first + other + more]
    assert positions == sorted(positions) and len(set(positions)) == 7
    assert await store.last_seq("a") == 5
    assert await store.last_position() == positions[-1]


async def test_append_returns_what_reads_return(store: EventStore) -> None:
    before = time.time()
    appended = await store.append(
        "a", [NewEvent("x.one", {"k": [1, "two", None]}, version=3), NewEvent("x.two", [])]
    )
    assert before <= appended[0].ts <= time.time()
    assert await store.read_stream("a") == appended
    assert await store.read_all() == appended
    assert (appended[0].type, appended[0].version, appended[0].payload) == (
        "x.one",
        3,
        {"k": [1, "two", None]},
    )
    assert appended[1].version == 1


async def test_read_stream_range(store: EventStore) -> None:
    await store.append("a", events(6))
    assert [e.seq for e in await store.read_stream("a", from_seq=3)] == [3, 4, 5, 6]
    assert [e.seq for e in await store.read_stream("a", from_seq=2, to_seq=4)] == [2, 3, 4]
    assert [e.seq for e in await store.read_stream("a", to_seq=2)] == [1, 2]
    assert await store.read_stream("a", from_seq=7) == []
    assert await store.read_stream("missing") == []


async def test_read_all_after_position_with_limit(store: EventStore) -> None:
    await store.append("a", events(3))
    await store.append("b", events(3))
    everything = await store.read_all()
    assert [(e.stream, e.seq) for e in everything] == [
        ("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("b", 3)
    ]  # fmt: skip
    after = await store.read_all(after_position=everything[1].position, limit=3)
    assert after == everything[2:5]
    assert await store.read_all(after_position=everything[-1].position) == []


async def test_payload_floats_and_text_round_trip(store: EventStore) -> None:
    floats = [0.1, 1 / 3, 1e-300, 5e-324, 1.7976931348623157e308, -0.0, 2.5e16, math.pi]
    payload = {"floats": floats, "text": 'naïve ∑ \n"quoted"', "big": 2**70, "b": True}
    await store.append("a", [NewEvent("x", payload)])
    (read,) = await store.read_stream("a")
    assert read.payload == payload
    assert [math.copysign(1.0, f) for f in read.payload["floats"]] == [
        math.copysign(1.0, f) for f in floats
    ]


async def test_non_finite_floats_round_trip(store: EventStore) -> None:
    await store.append("a", [NewEvent("x", {"nan": math.nan, "inf": math.inf, "ninf": -math.inf})])
    (read,) = await store.read_stream("a")
    assert math.isnan(read.payload["nan"])
    assert (read.payload["inf"], read.payload["ninf"]) == (math.inf, -math.inf)


async def test_batch_that_fails_half_way_leaves_nothing(store: EventStore) -> None:
    (kept,) = await store.append("a", events(1))
    bad_batch = [*events(3), NewEvent("x_bad", {"not json": {1, 2}}), *events(2)]
    with pytest.raises(InvalidPayload, match="x_bad"):
        await store.append("a", bad_batch)
    assert await store.read_all() == [kept]
    assert await store.last_position() == kept.position
    (next_event,) = await store.append("a", events(1))
    assert next_event.seq == 2


async def test_expected_seq(store: EventStore) -> None:
    await store.append("a", events(2), expected_seq=0)
    with pytest.raises(StreamConflict) as conflict:
        await store.append("a", events(1), expected_seq=1)
    assert (conflict.value.expected_seq, conflict.value.actual_seq) == (1, 2)
    with pytest.raises(StreamConflict):
        await store.append("new", events(1), expected_seq=3)
    assert await store.last_seq("a") == 2 and await store.last_seq("new") == 0
    (appended,) = await store.append("a", events(1), expected_seq=2)
    assert appended.seq == 3


async def test_events_persist_across_reopen(store_factory, db_path) -> None:
    first = await store_factory()
    appended = await first.append("a", events(4))
    await first.close()
    async with await EventStore.open(db_path) as reopened:
        assert await reopened.read_stream("a") == appended
        assert (await reopened.append("a", events(1)))[0].seq == 5


async def test_open_creates_parent_directories(store_factory, tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "events.db"
    store = await store_factory(path)
    await store.append("a", events(1))
    assert path.is_file()


async def test_readonly_store_reads_live_and_rejects_appends(store_factory) -> None:
    writer = await store_factory()
    await writer.append("a", events(1))
    reader = await store_factory(readonly=True)
    assert len(await reader.read_stream("a")) == 1
    await writer.append("a", events(2))
    assert len(await reader.read_stream("a")) == 3
    with pytest.raises(ReadOnlyStore):
        await reader.append("a", events(1))


async def test_readonly_open_of_missing_store_fails_and_creates_nothing(
    store_factory, tmp_path
) -> None:
    path = tmp_path / "absent" / "events.db"
    with pytest.raises(StoreNotFound, match="run a task first"):
        await store_factory(path, readonly=True)
    assert not path.parent.exists()


async def test_readonly_open_of_empty_file_fails(store_factory, db_path) -> None:
    db_path.write_bytes(b"")
    with pytest.raises(StoreNotFound):
        await store_factory(readonly=True)
    assert db_path.read_bytes() == b""


async def test_streams_summary(store: EventStore) -> None:
    a1 = await store.append("zeta", events(2))
    b = await store.append("alpha", events(3))
    a2 = await store.append("zeta", events(1))
    assert await store.streams() == [
        StreamInfo("zeta", 3, 3, a1[0].ts, a2[0].ts),
        StreamInfo("alpha", 3, 3, b[0].ts, b[-1].ts),
    ]


async def test_streams_is_fast_for_100_streams_of_500_events(store: EventStore) -> None:
    for s in range(100):
        await store.append(f"task-{s:03d}", events(500))
    start = time.perf_counter()
    summary = await store.streams()
    elapsed = time.perf_counter() - start
    assert len(summary) == 100 and all(info.n_events == 500 for info in summary)
    assert elapsed < 0.5, f"streams() took {elapsed:.3f}s for 50,000 events"
