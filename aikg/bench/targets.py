"""The suite's speed targets, checked against a GPU run's rows.

The built-in agent's issues set them: a geometric-mean speedup of at least 1.3x over
eager and 1.05x over ``torch.compile`` (1.0x until issue 17 raised it for KernelBench
level 1); 85% of the tasks verified; every memory-bound kernel at 85% or more of the GPU's
measured copy bandwidth or faster than ``torch.compile`` (80% of copy bandwidth alone
before); convolutions at 0.9x of cuDNN or better (eager runs cuDNN; their geometric mean);
fp16/bf16 matmul kernels at 80% or more of torch's (cuBLAS) rate, measured by the verifier
on the same GPU as a bf16 8192^3 matmul. Each result says whether the target is met, by
how much it is missed, and which tasks fall short.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from aikg.bench.row import BenchRow

HALF_PRECISION = ("float16", "bfloat16")


def verified_speedups(rows: Sequence[BenchRow], baseline: str) -> list[float]:
    speedups = (row.speedup(baseline) for row in rows if row.status == "verified")
    return [s for s in speedups if s is not None and s > 0]


def geomean_speedup(rows: Sequence[BenchRow], baseline: str) -> float | None:
    """Geometric mean speedup over verified rows that have one; None when there are none."""
    speedups = verified_speedups(rows, baseline)
    if not speedups:
        return None
    return math.exp(sum(math.log(s) for s in speedups) / len(speedups))


@dataclass(frozen=True)
class TargetResult:
    name: str
    goal: float
    measured: float | None  # the geomean, or the share of tasks at the goal
    unit: str  # "x" (a speedup) or "of tasks"
    met: bool
    # op name -> its value: tasks short of a roofline goal, or slower than a geomean's baseline
    below: dict[str, float]
    below_values: bool = True  # False: the tasks below are listed by name only


def _geomean_target(
    rows: Sequence[BenchRow], baseline: str, title: str, goal: float
) -> TargetResult:
    measured = geomean_speedup(rows, baseline)
    # a mean has no single task short of it: name the tasks slower than the baseline
    below = {
        r.op_name: value
        for r in rows
        if r.status == "verified" and (value := r.speedup(baseline)) is not None and value < 1.0
    }
    met = measured is not None and measured >= goal
    return TargetResult(f"geomean speedup over {title}", goal, measured, "x", met, below)


def _roofline_target(
    name: str, rows: Sequence[BenchRow], goal: float, or_beats_compile: bool = False
) -> TargetResult:
    """Each row at `goal` of its roofline (or, with `or_beats_compile`, faster than
    torch.compile); measured: the share of rows that are."""
    fractions = {r.op_name: r.roofline_fraction for r in rows if r.roofline_fraction is not None}
    excused = {r.op_name for r in rows if or_beats_compile and (r.speedup("compile") or 0) > 1}
    below = {op: f for op, f in fractions.items() if f < goal and op not in excused}
    share = (len(fractions) - len(below)) / len(fractions) if fractions else None
    return TargetResult(name, goal, share, "of tasks", bool(fractions) and not below, below)


def _verified_target(rows: Sequence[BenchRow], goal: float) -> TargetResult:
    below = {r.op_name: 0.0 for r in rows if r.status != "verified"}
    share = (len(rows) - len(below)) / len(rows) if rows else None
    met = share is not None and share >= goal
    return TargetResult("tasks verified", goal, share, "of tasks", met, below, below_values=False)


def _convolution_target(rows: Sequence[BenchRow], goal: float) -> TargetResult:
    """Convolutions against cuDNN (their eager baseline), as a geometric mean."""
    convolutions = [r for r in rows if r.family == "convolution"]
    result = _geomean_target(convolutions, "eager", "cuDNN", goal)
    return TargetResult(
        "convolutions against cuDNN (eager), geomean",
        goal,
        result.measured,
        "x",
        result.met,
        {op: v for op, v in result.below.items() if v < goal},
    )


def check_targets(rows: Sequence[BenchRow]) -> list[TargetResult]:
    verified = [r for r in rows if r.status == "verified"]
    memory_bound = [r for r in verified if r.achieved_tflops is None]
    half_matmuls = [
        r for r in verified if r.achieved_tflops is not None and r.dtype in HALF_PRECISION
    ]
    return [
        _geomean_target(rows, "eager", "eager", 1.3),
        _geomean_target(rows, "compile", "torch.compile", 1.05),
        _verified_target(rows, 0.85),
        _roofline_target(
            "memory-bound kernels at 85% of copy bandwidth or faster than torch.compile",
            memory_bound,
            0.85,
            or_beats_compile=True,
        ),
        _convolution_target(rows, 0.9),
        _roofline_target("fp16/bf16 matmuls at 80% of the cuBLAS bf16 rate", half_matmuls, 0.8),
    ]


def _value(result: TargetResult) -> str:
    if result.measured is None:
        return "—"
    if result.unit == "x":
        return f"{result.measured:.2f}x"
    return f"{100 * result.measured:.0f}% of tasks"


def _shortfall(result: TargetResult) -> str:
    if result.met:
        return "met"
    if result.measured is None:
        return "not measured"
    if result.unit == "x":
        return f"missed by {100 * (1 - result.measured / result.goal):.0f}%"
    return f"missed: {len(result.below)} below"


def target_lines(results: Sequence[TargetResult]) -> list[str]:
    """The report's "Targets" section."""
    lines = ["## Targets", "", "| target | goal | measured | result | tasks below |"]
    lines.append("|---|---|---|---|---|")
    for r in results:
        goal = f"{r.goal:g}x" if r.unit == "x" else f"{100 * r.goal:.0f}%"
        shown = sorted(r.below.items(), key=lambda item: item[1])
        fmt = (lambda v: f"{v:.2f}x") if r.unit == "x" else (lambda v: f"{100 * v:.0f}%")
        named = (f"{op} {fmt(v)}" if r.below_values else op for op, v in shown)
        short = ", ".join(named) or "—"
        lines.append(f"| {r.name} | {goal} | {_value(r)} | {_shortfall(r)} | {short} |")
    lines += [
        "",
        "Tasks below: for a geometric mean, those slower than its baseline; for a roofline "
        "target, those short of it.",
        "",
    ]
    return lines
