"""A speedup too good to be true is verified again, from scratch, in a fresh process.

Above ``SUSPICIOUS_SPEEDUP`` over every baseline that was timed (eager, and
``torch.compile`` where it ran), the result of a warm worker could owe something to
state left in that worker (a cache, a patched function, a reference output). The job is
run again by a new worker; its result stands, flagged ``suspicious_speedup`` and
``reverified``, so reports can show the number was double-checked.
"""

from __future__ import annotations

from dataclasses import replace

from verifier.result import VerifyResult

SUSPICIOUS_SPEEDUP = 10.0


def speedups(result: VerifyResult) -> list[float]:
    """The candidate's speedup over each baseline that was timed (medians)."""
    timings = result.timings or {}
    candidate = timings.get("candidate") or {}
    cand_ms = candidate.get("median_ms")
    if not cand_ms:
        return []
    found = []
    for name in ("eager", "compile"):
        baseline = timings.get(name) or {}
        if baseline.get("median_ms"):
            found.append(baseline["median_ms"] / cand_ms)
    return found


def needs_reverification(result: VerifyResult) -> bool:
    """Passed, with a speedup above ``SUSPICIOUS_SPEEDUP`` over every timed baseline."""
    found = speedups(result)
    return result.passed and bool(found) and min(found) > SUSPICIOUS_SPEEDUP


def after_reverification(first: VerifyResult, fresh: VerifyResult) -> VerifyResult:
    """The fresh process's result, flagged; a failure there names the first result."""
    if not fresh.passed:
        least = min(speedups(first))
        message = (
            f"a {least:.1f}x speedup passed in the warm worker but not when verified again in "
            f"a fresh process: {fresh.message}"
        )
        return replace(fresh, message=message, suspicious_speedup=True, reverified=True)
    return replace(fresh, suspicious_speedup=needs_reverification(fresh), reverified=True)
