from __future__ import annotations

import asyncio

import pytest

from devicepool import DevicePool, DevicePoolError, parse_devices


def test_parse_devices() -> None:
    assert parse_devices("cuda:0, cuda:1") == ["cuda:0", "cuda:1"]
    assert parse_devices(["cpu:0", "cpu:1"]) == ["cpu:0", "cpu:1"]
    for bad in ("gpu:0", "cuda", "cuda:x", "", "cpu,cpu"):
        with pytest.raises(DevicePoolError):
            parse_devices(bad)


def test_devices_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIKG_DEVICES", "cpu:0,cpu:1")
    assert DevicePool().devices == ["cpu:0", "cpu:1"]


async def test_lease_is_exclusive_and_fifo() -> None:
    pool = DevicePool(["cpu"])
    order: list[str] = []

    async def worker(name: str) -> None:
        async with pool.lease(name, "cpu") as device:
            order.append(f"{name}:{device}")
            await asyncio.sleep(0.01)
            assert len(pool.occupancy()["cpu"]) == 1

    await asyncio.gather(*(worker(f"t{i}") for i in range(5)))
    assert order == [f"t{i}:cpu" for i in range(5)]
    assert pool.occupancy() == {"cpu": []}


async def test_released_on_error_and_cancellation() -> None:
    pool = DevicePool(["cpu:0", "cpu:1"])
    seen: list[tuple[str, str]] = []
    pool.subscribe(lambda what, lease: seen.append((what, lease.device)))

    with pytest.raises(RuntimeError):
        async with pool.lease("a", "cpu"):
            raise RuntimeError("boom")

    started = asyncio.Event()

    async def hold() -> None:
        async with pool.lease("b", "cpu"):
            started.set()
            await asyncio.sleep(10)

    holder = asyncio.create_task(hold())
    await started.wait()
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    assert all(not held for held in pool.occupancy().values())
    assert [w for w, _ in seen] == ["leased", "released", "leased", "released"]


async def test_cancelled_waiter_leaves_queue() -> None:
    pool = DevicePool(["cpu"])
    async with pool.lease("a", "cpu"):
        waiter = asyncio.create_task(pool.lease("b", "cpu").__aenter__())
        await asyncio.sleep(0)
        assert pool.queue_length == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert pool.queue_length == 0
    assert pool.occupancy() == {"cpu": []}


async def test_capacity_allows_sharing_and_kind_is_checked() -> None:
    pool = DevicePool(["cpu"], capacity=2)
    async with pool.lease("a", "cpu"), pool.lease("b", "cpu"):
        assert len(pool.occupancy()["cpu"]) == 2
    with pytest.raises(DevicePoolError, match="no cuda device"):
        async with pool.lease("a", "cuda"):
            pass


async def test_a_holder_shares_its_lease_up_to_share_jobs_and_others_still_wait() -> None:
    pool = DevicePool(["cpu:0", "cpu:1"])
    seen: list[str] = []
    pool.subscribe(lambda what, lease: seen.append(f"{what} {lease.holder}"))
    on: dict[str, str] = {}
    done = asyncio.Event()

    async def job(holder: str, name: str, share: int) -> None:
        async with pool.lease(holder, "cpu", share=share) as device:
            on[name] = device
            await done.wait()

    # a's four jobs: a free device each first, then a place a holds (at most 2 jobs on it)
    jobs = [asyncio.create_task(job("a", f"a{i}", 2)) for i in range(4)]
    jobs.append(asyncio.create_task(job("b", "b", 2)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert sorted(on.values()) == ["cpu:0", "cpu:0", "cpu:1", "cpu:1"]
    assert "b" not in on and pool.queue_length == 1  # b holds no lease to share: it waits
    assert [len(held) for held in pool.occupancy().values()] == [1, 1]  # places, not jobs
    done.set()
    await asyncio.gather(*jobs)
    assert on["b"] in ("cpu:0", "cpu:1") and pool.occupancy() == {"cpu:0": [], "cpu:1": []}
    assert seen.count("leased a") == seen.count("released a") == 2  # one per place
