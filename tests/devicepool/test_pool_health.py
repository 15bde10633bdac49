"""Lease timeouts, quarantine and device detection of the DevicePool itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from devicepool import (
    DevicePool,
    DevicePoolError,
    Lease,
    LeaseTimeout,
    Quarantine,
    cpu_slots,
    detect_devices,
)


async def test_lease_timeout_raises_and_leaves_the_queue() -> None:
    pool = DevicePool(["cpu"])
    async with pool.lease("a", "cpu"):
        with pytest.raises(LeaseTimeout, match=r"b: no cpu device came free in 0.05s"):
            async with pool.lease("b", "cpu", timeout=0.05):
                pass
        assert pool.queue_length == 0
    async with pool.lease("c", "cpu", timeout=0.05) as device:
        assert device == "cpu"
    assert pool.occupancy() == {"cpu": []}


async def test_pool_default_lease_timeout() -> None:
    pool = DevicePool(["cpu:0"], lease_timeout_s=0.05)
    async with pool.lease("a", "cpu"):
        with pytest.raises(LeaseTimeout, match="lease_timeout_s"):
            async with pool.lease("b", "cpu"):
                pass


async def test_waiter_cancelled_as_a_device_frees_does_not_leak() -> None:
    pool = DevicePool(["cpu"])
    holder = pool.lease("a", "cpu")
    await holder.__aenter__()
    waiter = asyncio.create_task(pool.lease("b", "cpu").__aenter__())
    await asyncio.sleep(0)
    waiter.cancel()  # its future is cancelled now; its handler runs later
    await holder.__aexit__(None, None, None)
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.occupancy() == {"cpu": []} and pool.queue_length == 0


async def test_repeated_failures_quarantine_and_work_goes_elsewhere() -> None:
    pool = DevicePool(["cpu:0", "cpu:1"], quarantine_after=2)
    heard: list[tuple[str, Lease | Quarantine]] = []
    pool.subscribe(lambda what, info: heard.append((what, info)))
    assert pool.report_result("cpu:0", "crash", "worker died") is False
    pool.report_result("cpu:0", "mismatch")  # a candidate's fault resets the count
    assert pool.report_failure("cpu:0", "crash: worker died") is False
    assert pool.report_result("cpu:0", "timeout", "no answer") is True
    assert list(pool.quarantined) == ["cpu:0"]
    assert heard[-1][0] == "quarantined"
    assert isinstance(heard[-1][1], Quarantine) and heard[-1][1].failures == 2
    async with pool.lease("a", "cpu") as first:
        waiter = asyncio.create_task(pool.lease("b", "cpu").__aenter__())
        await asyncio.sleep(0.01)
        assert first == "cpu:1" and pool.queue_length == 1  # cpu:0 is free but benched
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    for _ in range(5):  # the last healthy cpu is never benched
        assert pool.report_failure("cpu:1", "crash") is False
    assert list(pool.quarantined) == ["cpu:0"]


def test_options_are_checked_and_cpu_slots() -> None:
    with pytest.raises(DevicePoolError, match="quarantine_after"):
        DevicePool(["cpu"], quarantine_after=0)
    assert cpu_slots(1) == ["cpu"]
    assert cpu_slots(3) == ["cpu:0", "cpu:1", "cpu:2"]
    assert detect_devices("cpu") == ["cpu"]
    assert DevicePool(cpu_slots(4), capacity=2).devices == ["cpu:0", "cpu:1", "cpu:2", "cpu:3"]


def test_cuda_detection_honours_cuda_visible_devices() -> None:
    code = (
        "from devicepool import DevicePool, DevicePoolError, detect_devices\n"
        "print(detect_devices('cuda'))\n"
        "try:\n    DevicePool.detect('cuda')\nexcept DevicePoolError as e:\n    print(e)\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == (
        "no cuda device found on this machine (CUDA_VISIBLE_DEVICES=''): pass --devices, e.g. cpu"
    )


def test_ascend_detection_without_torch_npu_finds_none() -> None:
    import importlib.util

    if importlib.util.find_spec("torch_npu") is not None:
        pytest.skip("torch_npu is installed here")
    assert detect_devices("ascend") == []
