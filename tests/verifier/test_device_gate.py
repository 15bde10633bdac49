"""Jobs of one device run side by side in their own workers: they load and compile beside
each other, time alone, and a worker that hangs or dies gives the device back."""

from __future__ import annotations

import asyncio
import time

import pytest

from verifier import Verifier, VerifyJob, VerifyResult
from verifier.breakdown import JobClock
from verifier.child import DeviceModes
from verifier.device_gate import DeviceGate, GateHold
from verifier.gate_client import GateClient
from verifier.service import workers_for

from .conftest import ADVERSARIAL, source

REFERENCE = source("ref_swish.py")
# the same task, 2 s slower to import: a job that loads it holds the device gate free
SLOW_IMPORT = "import time\n\ntime.sleep(2.0)\n" + REFERENCE
OTHER_TASK = REFERENCE.replace("return x *", "return 1.0 * x *")  # same values, other task
SWISH = source("good/swish.py")

Span = tuple[float, float]


def spans(result: VerifyResult, *modes: str) -> list[Span]:
    return [(start, end) for mode, start, end in result.device_spans if mode in modes]


def overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def profile_job(reference: str, candidate: str = SWISH, timeout_s: float = 60) -> VerifyJob:
    return VerifyJob(reference, candidate, task_type="profile", trials=1, timeout_s=timeout_s)


async def warm_workers(verifier: Verifier) -> None:
    """Starts every worker of the device first, so the jobs under test meet in time."""
    quick = VerifyJob(REFERENCE, SWISH, trials=1)
    count = verifier.workers_per_device
    await asyncio.gather(*(verifier.verify(quick) for _ in range(count)))
    assert verifier.workers_started == count


async def test_gate_lets_shared_holders_in_together_and_timing_alone() -> None:
    gate = DeviceGate()
    first, second, timer, late = (GateHold(gate) for _ in range(4))
    await first.switch("shared")
    await second.switch("shared")
    timing = asyncio.create_task(timer.switch("exclusive"))
    late_shared = asyncio.create_task(late.switch("shared"))
    await asyncio.sleep(0.01)
    assert not timing.done() and not late_shared.done()  # FIFO: behind the waiting timer
    first.release()
    second.release()
    assert await timing >= 0.0 and gate.exclusive
    await asyncio.sleep(0.01)
    assert not late_shared.done()
    await timer.switch("free")  # refused: exclusive is held to the job's end
    await asyncio.sleep(0.01)
    assert gate.exclusive and not late_shared.done()
    timer.release()
    await late_shared
    assert gate.shared == 1 and not gate.exclusive
    with pytest.raises(ValueError, match="unknown device gate mode"):
        await late.switch("everything")


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    gate = DeviceGate()
    holder, waiter, after = GateHold(gate), GateHold(gate), GateHold(gate)
    await holder.switch("exclusive")
    waiting = asyncio.create_task(waiter.switch("exclusive"))
    queued = asyncio.create_task(after.switch("shared"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    holder.release()
    await asyncio.wait_for(queued, 1)
    assert gate.shared == 1 and not gate.exclusive


async def test_jobs_of_one_device_time_alone_and_outlive_a_hung_or_dead_worker() -> None:
    """One pool of three warm workers (their start is the test's main cost) for both."""
    async with Verifier(workers_per_device=3, cpu_memory_headroom_bytes=1 << 30) as verifier:
        await warm_workers(verifier)
        await load_side_by_side_and_time_alone(verifier)
        await hung_or_dead_worker_gives_the_device_back(verifier)


async def load_side_by_side_and_time_alone(verifier: Verifier) -> None:
    fast, slow = await asyncio.gather(
        verifier.verify(profile_job(OTHER_TASK)), verifier.verify(profile_job(SLOW_IMPORT))
    )
    assert fast.passed, fast.message
    assert slow.passed, slow.message
    for job, other in ((fast, slow), (slow, fast)):
        assert len(spans(job, "exclusive")) == 1  # the timed calls, once the device is its own
        for timed in spans(job, "exclusive"):
            assert not any(overlap(timed, used) for used in spans(other, "shared", "exclusive"))
    # the slow job loaded its task (gate free) while the fast one used the device and timed
    assert any(
        overlap(loading, timed)
        for loading in spans(slow, "free")
        for timed in spans(fast, "exclusive")
    )
    # the next job of a task goes to the worker that ran it: its reference is cached there
    again = await verifier.verify(VerifyJob(OTHER_TASK, SWISH, trials=1))
    assert again.breakdown is not None and again.breakdown.reference_cache_hits > 0


async def hung_or_dead_worker_gives_the_device_back(verifier: Verifier) -> None:
    hang = (ADVERSARIAL / "hang.py").read_text()
    dies = (ADVERSARIAL / "os_exit.py").read_text()
    started = time.monotonic()
    hung, crashed, waited = await asyncio.wait_for(
        asyncio.gather(
            verifier.verify(profile_job(REFERENCE, hang, timeout_s=4)),
            verifier.verify(profile_job(REFERENCE, dies)),
            verifier.verify(profile_job(SLOW_IMPORT)),
        ),
        120,
    )
    assert hung.stage == "timeout" and crashed.stage == "crash"
    assert waited.passed, waited.message
    assert waited.breakdown is not None and waited.breakdown.wait_s > 0.5
    # it timed only once the hung worker, which held the device, had been killed
    assert min(start for start, _ in spans(waited, "exclusive")) >= started + 4
    assert sum(end - start for start, end in spans(waited, "wait")) == pytest.approx(
        waited.breakdown.wait_s, abs=0.05
    )


def test_a_job_rerun_alone_takes_the_device_exclusively_where_it_would_share() -> None:
    asked: list[str] = []
    gate = GateClient(asked.append)
    with JobClock("cpu") as clock:
        alone = DeviceModes(gate, clock, "cpu", alone=True)
        for mode in ("shared", "free", "exclusive", "shared"):
            alone.enter(mode)
    assert asked == ["exclusive", "free", "exclusive"]
    assert gate.may_share and not GateClient().may_share


def test_auto_verifies_one_job_at_a_time_on_a_gpu_and_two_on_the_cpu() -> None:
    assert workers_for("auto", "cuda:1") == 1 and workers_for(None, "cpu") == 2
    assert workers_for(3, "cuda:0") == 3
    for bad in (0, "two"):
        with pytest.raises(ValueError, match="workers_per_device"):
            workers_for(bad, "cpu")
