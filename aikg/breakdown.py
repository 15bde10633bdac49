"""Where verification time went, in words: one rule for `aikg show` and the bench report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, fields
from typing import Any

from machine.state import TaskState
from verifier.result import TimeBreakdown

# (field, label) in the order a verification spends them
PARTS = (
    ("worker_start_s", "worker start"),
    ("inputs_s", "inputs"),
    ("reference_s", "reference"),
    ("compile_s", "compile"),
    ("trials_s", "trials"),
    ("timing_s", "timing"),
    ("wait_s", "device wait"),
    ("other_s", "other"),
)


def busy_text(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.0f}%"


def breakdown_text(b: TimeBreakdown) -> str:
    """``worker start 9.1 s · inputs 0.4 s · … · GPU busy 71%`` (zero parts left out)."""
    parts = [f"{label} {getattr(b, name):.2f} s" for name, label in PARTS if getattr(b, name)]
    parts.append(f"GPU busy {busy_text(b.gpu_busy_fraction)}")
    if b.reference_cache_hits:
        parts.append(f"{b.reference_cache_hits} cached reference outputs")
    return " · ".join(parts)


def _covered_s(b: TimeBreakdown) -> float:
    """The time a busy fraction is over: the wall time less timing and device waits."""
    return b.wall_s - b.timing_s - b.wait_s


def total_breakdown(breakdowns: Iterable[TimeBreakdown]) -> TimeBreakdown | None:
    """The sum over several verifications; the GPU busy fraction weighted by the time it
    covers (wall time outside timing and waits for the device). None when there is nothing
    to add up."""
    items = list(breakdowns)
    if not items:
        return None
    sums = {
        f.name: sum(getattr(b, f.name) for b in items)
        for f in fields(TimeBreakdown)
        if f.name != "gpu_busy_fraction"
    }
    measured = [b for b in items if b.gpu_busy_fraction is not None]
    covered = sum(_covered_s(b) for b in measured)
    busy = (
        sum(b.gpu_busy_fraction * _covered_s(b) for b in measured) / covered  # type: ignore[operator]
        if measured and covered > 0
        else None
    )
    return TimeBreakdown(**sums, gpu_busy_fraction=busy)


def task_breakdown(state: TaskState) -> TimeBreakdown | None:
    """A task's verifications, all steps together."""
    return total_breakdown(a.breakdown for a in state.attempts if a.breakdown is not None)


def step_breakdown_lines(state: TaskState) -> list[str]:
    """One line per verified step: where its verification's time went."""
    return [
        f"step {a.step}: {a.breakdown.wall_s + a.breakdown.worker_start_s:.2f} s — "
        f"{breakdown_text(a.breakdown)}"
        for a in state.attempts
        if a.breakdown is not None
    ]


def step_breakdown_dicts(state: TaskState) -> list[dict[str, Any]]:
    """The same, JSON-able: ``{"step": n, "inputs_s": ..., ...}`` per verified step."""
    return [
        {"step": a.step, **asdict(a.breakdown)} for a in state.attempts if a.breakdown is not None
    ]
