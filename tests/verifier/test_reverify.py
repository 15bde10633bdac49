"""A speedup above 10x over every baseline is verified again in a fresh worker and flagged."""

from __future__ import annotations

from verifier import Verifier, VerifyJob, VerifyResult
from verifier.reverify import (
    SUSPICIOUS_SPEEDUP,
    after_reverification,
    needs_reverification,
    speedups,
)

from .conftest import source


def _profiled(candidate_ms: float, eager_ms: float, compile_ms: float | None) -> VerifyResult:
    timings = {
        "candidate": {"median_ms": candidate_ms},
        "eager": {"median_ms": eager_ms},
        "compile": None if compile_ms is None else {"median_ms": compile_ms},
    }
    return VerifyResult(True, None, "passed", timings=timings)


def test_only_a_speedup_over_every_baseline_is_suspicious() -> None:
    assert needs_reverification(_profiled(1.0, 20.0, 11.0))
    assert not needs_reverification(_profiled(1.0, 20.0, 5.0))
    assert needs_reverification(_profiled(1.0, 20.0, None))  # CPU: eager only
    assert not needs_reverification(VerifyResult(True, None, "passed"))  # not profiled


def test_a_failure_in_the_fresh_process_stands_and_says_why() -> None:
    fresh = VerifyResult.failure("timing-cheat", "a timed call launched nothing")
    result = after_reverification(_profiled(1.0, 30.0, 20.0), fresh)
    assert not result.passed and result.stage == "timing-cheat"
    assert result.suspicious_speedup and result.reverified
    assert "20.0x" in result.message and "fresh process" in result.message


async def test_a_suspicious_speedup_is_reverified_in_a_fresh_worker() -> None:
    slow_reference = source("ref_slow_swish.py")
    job = VerifyJob(slow_reference, source("good/swish.py"), task_type="profile", trials=1)
    async with Verifier(mode="warm", cpu_memory_headroom_bytes=1 << 30) as verifier:
        result = await verifier.verify(job)
        assert verifier.workers_started == 2  # the warm worker, then a fresh one
    assert result.passed, result.message
    assert result.reverified
    # flagged when the fresh process measured it over 10x too (a loaded machine may not)
    assert result.suspicious_speedup == (min(speedups(result)) > SUSPICIOUS_SPEEDUP)
