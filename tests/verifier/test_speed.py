"""Verification speed mechanisms: inputs made on the target device, the reference-output
cache, compile-ahead's shaped inputs, and the per-job time breakdown."""

from __future__ import annotations

import uuid
from dataclasses import fields
from types import ModuleType

import numpy as np
import pytest
import torch

from verifier import Verifier, VerifyJob, verify_in_process
from verifier.compile_ahead import shaped_inputs
from verifier.reference_cache import ReferenceCache, ReferenceKey
from verifier.result import TimeBreakdown
from verifier.timed_audit import TimedCallAudit
from verifier.timing import CUDA_BUDGET_MS, CUDA_MIN_RUNS, CUDA_RUNS, timed_runs
from verifier.trials import _on_device, make_inputs

from .conftest import source

PHASE_FIELDS = (
    "inputs_s",
    "reference_s",
    "compile_s",
    "trials_s",
    "timing_s",
    "wait_s",
    "other_s",
)


def _task(get_inputs: object) -> ModuleType:
    module = ModuleType("task")
    module.get_inputs = get_inputs  # type: ignore[attr-defined]
    return module


def _unique_swish() -> str:
    """ref_swish.py under a source of its own, so no other test warmed the cache for it."""
    return source("ref_swish.py") + f"\n# {uuid.uuid4().hex}\n"


# --- inputs on the device ------------------------------------------------------------------


def test_inputs_are_made_with_the_target_as_default_device() -> None:
    torch.manual_seed(0)
    values = _on_device(lambda: [torch.rand(2, 3), 7], "meta")
    assert values[0].device.type == "meta" and values[1] == 7


def test_a_task_that_pins_its_device_is_copied_to_the_target() -> None:
    values = _on_device(lambda: [torch.rand(2, 3, device="cpu")], "meta")
    assert values[0].device.type == "meta" and values[0].shape == (2, 3)


def test_a_task_that_cannot_run_on_the_device_is_made_on_the_host_with_the_same_draws() -> None:
    def host_only() -> list[object]:
        return [torch.rand(4).numpy()]  # .numpy() fails on any device but the host

    torch.manual_seed(11)
    values = _on_device(host_only, "meta")
    torch.manual_seed(11)
    expected = torch.rand(4).numpy()
    assert isinstance(values[0], np.ndarray)
    np.testing.assert_array_equal(values[0], expected)


def test_running_out_of_memory_on_the_device_is_not_retried_on_the_host() -> None:
    calls = []

    def too_big() -> list[object]:
        calls.append(1)
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 6.00 GiB")

    with pytest.raises(torch.OutOfMemoryError):
        _on_device(too_big, "meta")
    assert len(calls) == 1


def test_compile_ahead_inputs_have_the_task_shapes_without_drawing_data() -> None:
    task = _task(lambda: [torch.rand(3, 5, dtype=torch.float16), 2.0])
    shaped = shaped_inputs(task, seed=0, device="cpu", small=False)
    assert shaped is not None
    assert shaped[0].shape == (3, 5) and shaped[0].dtype == torch.float16 and shaped[1] == 2.0
    pinned = _task(lambda: [torch.rand(3, device="cpu")])
    assert shaped_inputs(pinned, seed=0, device="cpu", small=False) is None


# --- the reference-output cache ------------------------------------------------------------

KEY = ReferenceKey.of("reference source", "torch", "cpu", False, 0)


def test_cache_keeps_within_its_budget_and_drops_the_least_recently_used() -> None:
    cache = ReferenceCache(capacity_bytes=2 * 4 * 64)  # two outputs of 64 fp32 values
    runs: list[int] = []

    def output(seed: int) -> torch.Tensor:
        runs.append(seed)
        return torch.full((64,), float(seed))

    inputs = [torch.ones(3)]
    for seed in (1, 2, 1, 3, 1, 2):
        cache.get_or_compute(KEY, seed, inputs, lambda seed=seed: output(seed))
    # 1 and 2 fill it; 1 hits; 3 evicts 2 (least recently used); 1 hits; 2 is recomputed
    assert runs == [1, 2, 3, 2]
    assert cache.hits == 2 and cache.bytes_held <= cache.capacity_bytes and len(cache) == 2


def test_cache_skips_an_output_larger_than_its_budget() -> None:
    cache = ReferenceCache(capacity_bytes=16)
    cache.get_or_compute(KEY, 0, [], lambda: torch.zeros(64))
    assert len(cache) == 0 and cache.bytes_held == 0


def test_cache_is_keyed_by_the_inputs_not_only_the_seed() -> None:
    cache = ReferenceCache(capacity_bytes=1 << 20)
    first = cache.get_or_compute(KEY, 5, [torch.ones(4, 8)], lambda: torch.zeros(4))
    other_shape = cache.get_or_compute(KEY, 5, [torch.ones(2, 8)], lambda: torch.ones(2))
    assert cache.hits == 0 and first.shape == (4,) and other_shape.shape == (2,)


def test_an_entry_overwritten_in_memory_is_recomputed() -> None:
    cache = ReferenceCache(capacity_bytes=1 << 20)
    kept = cache.get_or_compute(KEY, 0, [], lambda: torch.zeros(8))
    kept.fill_(3.0)  # what a candidate writing out of bounds could do
    again = cache.get_or_compute(KEY, 0, [], lambda: torch.zeros(8))
    assert cache.hits == 0 and cache.misses == 2 and not bool(again.any())


def test_second_candidate_reuses_the_reference_outputs() -> None:
    reference = _unique_swish()
    job = VerifyJob(reference, source("good/swish.py"), seed=3)
    first = verify_in_process(job)
    second = verify_in_process(job)
    assert first.passed and second.passed, (first.message, second.message)
    assert first.breakdown is not None and second.breakdown is not None
    assert first.breakdown.reference_cache_hits == 0
    assert second.breakdown.reference_cache_hits > 0


@pytest.mark.parametrize(
    "change", [{"seed": 4}, {"reference_source": None}, {"small_shapes": True}]
)
def test_another_seed_reference_or_shapes_choice_misses(change: dict[str, object]) -> None:
    reference = _unique_swish()
    base = VerifyJob(reference, source("good/swish.py"), seed=3)
    assert verify_in_process(base).passed
    fields_ = {**base.to_dict(), **change}
    if fields_["reference_source"] is None:
        fields_["reference_source"] = reference.replace("return x *", "return 1.0 * x *")
    other = verify_in_process(VerifyJob.from_dict(fields_))
    assert other.passed, other.message
    assert other.breakdown is not None and other.breakdown.reference_cache_hits == 0


# --- the time breakdown --------------------------------------------------------------------


async def test_breakdown_adds_up_to_the_job_and_charges_the_worker_start_once() -> None:
    job = VerifyJob(_unique_swish(), source("good/swish.py"), task_type="profile")
    async with Verifier(mode="warm", sandbox="off") as verifier:
        first = await verifier.verify(job)
        second = await verifier.verify(job)
    for result in (first, second):
        assert result.passed, result.message
        b = result.breakdown
        assert b is not None and b.gpu_busy_fraction is None  # CPU: no GPU to be busy
        phases = sum(getattr(b, name) for name in PHASE_FIELDS)
        assert all(getattr(b, name) >= 0 for name in PHASE_FIELDS)
        assert phases == pytest.approx(b.wall_s, rel=1e-6, abs=1e-6)
        assert b.wall_s <= result.duration_s
        assert b.trials_s > 0 and b.timing_s > 0 and b.inputs_s > 0 and b.reference_s > 0
    assert first.breakdown and first.breakdown.worker_start_s > 0
    assert second.breakdown and second.breakdown.worker_start_s == 0


def test_breakdown_round_trips_through_the_result_dict() -> None:
    breakdown = TimeBreakdown(**{f.name: 1.0 for f in fields(TimeBreakdown)})
    result = verify_in_process(VerifyJob(source("ref_swish.py"), "bad python ("))
    again = type(result).from_dict({**result.to_dict(), "breakdown": breakdown.__dict__})
    assert again.breakdown == breakdown


def test_slow_calls_are_timed_fewer_times_but_never_below_the_minimum() -> None:
    assert timed_runs(0.05) == CUDA_RUNS
    assert timed_runs(CUDA_BUDGET_MS / 50) == 50
    assert timed_runs(50.0) == timed_runs(5000.0) == CUDA_MIN_RUNS
    assert timed_runs(50.0, most=3) == 3  # a caller's smaller count is kept


def test_the_checked_timed_call_is_among_the_calls_the_timers_make() -> None:
    inputs = make_inputs(_task(lambda: [torch.rand(4)]), 1, "cpu", False, "torch")
    for seed in range(50):
        audit = TimedCallAudit(None, inputs, "cpu", seed, range(10, 10 + CUDA_RUNS))
        audit.timed_calls(CUDA_MIN_RUNS)
        assert 10 <= audit.checked_call < 10 + CUDA_MIN_RUNS
