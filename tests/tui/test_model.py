"""The read model: incremental folding equals a fresh fold; utilisation over time."""

from __future__ import annotations

from pathlib import Path

from store import EventStore, StoredEvent
from tui.model import Devices, Projection


async def test_incremental_state_equals_replay_at_the_end(canned_db: Path) -> None:
    async with await EventStore.open(canned_db, readonly=True) as store:
        events = await store.read_all()
    projection = Projection()
    for i in range(0, len(events), 7):  # in small batches, as the live tail delivers them
        projection.apply(events[i : i + 7])
    assert projection.apply(events) == set()  # already applied: ignored
    for record in projection.tasks.values():
        replayed = record.as_of(len(record.events) - 1)
        assert replayed.state == record.state
        assert replayed.calls == record.calls
    softmax = projection.tasks["softmax-1"]
    assert softmax.as_of(0).state.status == "created"
    assert softmax.calls["softmax-c2"].status == "responded"
    assert softmax.as_of(21).calls["softmax-c2"].status == "streaming"


def _pool(position: int, ts: float, type_: str, device: str, holder: str) -> StoredEvent:
    payload = {"device": device, "holder": holder, "queue_length": 0}
    if type_ == "pool.released":
        payload["held_s"] = 1.0
    return StoredEvent(position, "devices", position, type_, 1, ts, payload)


def test_utilisation_is_time_weighted_per_bucket() -> None:
    devices = Devices()
    devices.add(_pool(1, 100.0, "pool.leased", "cuda:0", "a"))
    devices.add(_pool(2, 100.0, "pool.leased", "cuda:1", "b"))
    devices.add(_pool(3, 110.0, "pool.released", "cuda:1", "b"))
    # Buckets of 10 s ending at 130: [100,110) both busy, [110,120) and [120,130) one of two.
    assert devices.utilisation(130.0, buckets=4, width_s=10.0) == [0.0, 1.0, 0.5, 0.5]
    assert devices.busy == 1


async def test_status_matches_aikg_summary(canned_db: Path) -> None:
    from aikg.summary import best_speedups, status_of
    from tui import format as fmt

    async with await EventStore.open(canned_db, readonly=True) as store:
        projection = Projection()
        projection.apply(await store.read_all())
    for record in projection.task_records():
        assert fmt.status_of(record.state) == status_of(record.state)
        assert fmt.speedups_of(record) == best_speedups(record.state)["speedup_vs_eager"]
