"""Real tasks sharing CPU slots: the `devices` stream shows overlap, every lease returns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from devicepool import DevicePool, LeaseTimeout
from machine import events as ev
from machine.interrupted import Interrupted
from machine.occupancy import OccupancyPublisher, publishing_occupancy
from machine.recorder import decode_stored
from store import EventStore
from tests.devicepool.scripted import crashing, good, make_task, sleeping, wrong

pytestmark = pytest.mark.slow


async def device_events(tmp_path: Path) -> list[ev.Event]:
    async with await EventStore.open(tmp_path / "events.db") as store:
        return [decode_stored(s) for s in await store.read_stream(ev.DEVICES_STREAM)]


def most_held_at_once(events: list[ev.Event]) -> int:
    held, most = 0, 0
    for event in events:
        held += isinstance(event, ev.PoolLeased) - isinstance(event, ev.PoolReleased)
        most = max(most, held)
    return most


def assert_all_released(pool: DevicePool, events: list[ev.Event]) -> None:
    assert all(not held for held in pool.occupancy().values()) and pool.queue_length == 0
    leased = sorted((e.device, e.holder) for e in events if isinstance(e, ev.PoolLeased))
    released = sorted((e.device, e.holder) for e in events if isinstance(e, ev.PoolReleased))
    assert leased == released


async def test_sixteen_tasks_overlap_on_four_slots(tmp_path: Path) -> None:
    pool = DevicePool(["cpu:0", "cpu:1", "cpu:2", "cpu:3"], quarantine_after=100)
    kinds = [good] * 11 + [wrong] * 3 + [crashing] * 2
    tasks = [make_task(tmp_path, pool, f"t{i:02}") for i in range(16)]
    runs = [t.run({"designer": k(), "coder": k()}) for t, k in zip(tasks, kinds, strict=True)]
    results = await asyncio.gather(*runs)
    assert results == [True] * 11 + [False] * 5
    events = await device_events(tmp_path)
    assert most_held_at_once(events) == 4
    assert sum(isinstance(e, ev.PoolLeased) for e in events) == 16
    assert {e.device for e in events if isinstance(e, ev.PoolLeased)} == set(pool.devices)
    assert max(e.queue_length for e in events if isinstance(e, ev.PoolLeased)) > 0
    assert_all_released(pool, events)


async def test_interrupted_tasks_release_and_record(tmp_path: Path) -> None:
    pool = DevicePool(["cpu:0", "cpu:1"])
    tasks = [make_task(tmp_path, pool, f"slow{i}") for i in range(4)]
    runs = [asyncio.ensure_future(t.run({"coder": sleeping(5), "designer": good()})) for t in tasks]
    while sum(len(held) for held in pool.occupancy().values()) < 2 or pool.queue_length < 2:
        await asyncio.sleep(0.05)
    for task in tasks:
        task.interrupt("SIGINT")
    outcomes = await asyncio.gather(*runs, return_exceptions=True)
    assert all(isinstance(o, Interrupted) for o in outcomes)
    events = await device_events(tmp_path)
    assert most_held_at_once(events) == 2
    assert_all_released(pool, events)
    async with await EventStore.open(tmp_path / "events.db") as store:
        for task in tasks:
            types = [s.type for s in await store.read_stream(task.task_id)]
            assert types[-1] == "task.interrupted"


async def test_verify_timeout_and_lease_timeout_release(tmp_path: Path) -> None:
    pool = DevicePool(["cpu"], lease_timeout_s=0.5)
    slow = make_task(tmp_path, pool, "slow", verifier={"trials": 1, "timeout_s": 1.0})
    starved = make_task(tmp_path, pool, "starved")
    first = asyncio.ensure_future(slow.run({"coder": sleeping(30), "designer": good()}))
    while not pool.occupancy()["cpu"]:
        await asyncio.sleep(0.02)
    with pytest.raises(LeaseTimeout, match="starved: no cpu device came free"):
        await starved.run({"coder": good(), "designer": good()})
    assert await first is False
    assert slow.state.attempts[-1].result.stage == "timeout"
    assert_all_released(pool, await device_events(tmp_path))


async def test_quarantine_is_published_and_flushed(tmp_path: Path) -> None:
    pool = DevicePool(["cpu:0", "cpu:1"], quarantine_after=1)
    async with publishing_occupancy(pool, tmp_path / "events.db"):
        async with pool.lease("a", "cpu"):
            pass
        pool.report_failure("cpu:0", "crash: worker died")
    events = await device_events(tmp_path)
    assert [type(e) for e in events] == [ev.PoolLeased, ev.PoolReleased, ev.PoolQuarantined]
    assert events[-1] == ev.PoolQuarantined("cpu:0", "crash: worker died", 1)
    assert events[0] == ev.PoolLeased("cpu:0", "a", 0)


async def test_publisher_never_blocks_the_lease_path(tmp_path: Path) -> None:
    pool = DevicePool(["cpu"])
    publisher = OccupancyPublisher(tmp_path / "events.db", pool)
    publisher.start()
    for i in range(200):  # no await between leases: nothing is written yet
        async with pool.lease(f"h{i}", "cpu"):
            pass
    await publisher.close()
    events = await device_events(tmp_path)
    assert len(events) == 400 and events[-1].holder == "h199"
