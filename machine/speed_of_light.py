"""A task's speed-of-light: the least time its bytes and FLOPs need on the device that timed it.

The verifier's CUDA timing already measures what the bound needs, in the worker on the
timed device (`verifier/timing.py`, the same `device_caps` probe `aikg doctor` caches):
the bytes a call moves (inputs and outputs), the device's copy bandwidth and bf16 matmul
rate, and the FLOPs of one call where it can count them (the task file's `flops()`, or a
matmul's from its input shapes; other ops count as memory-bound, 0 FLOPs). The bound is
the larger of bytes / bandwidth and FLOPs / peak. On the CPU nothing is measured: no bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.types import SpeedOfLight


def speed_of_light(timings: Mapping[str, Any]) -> SpeedOfLight | None:
    """The bound a verified candidate's profile-mode `timings` imply; None without them."""
    bytes_moved = timings.get("bytes_moved")
    copy_rate = timings.get("device_copy_bytes_per_s")
    if not bytes_moved or not copy_rate:
        return None
    flops = _counted_flops(timings)
    peak = timings.get("device_matmul_bf16_flop_per_s")
    memory_ms = float(bytes_moved) / float(copy_rate) * 1e3
    compute_ms = flops / float(peak) * 1e3 if flops and peak else 0.0
    compute = compute_ms > memory_ms
    return SpeedOfLight(
        bytes_moved=int(bytes_moved),
        flops=flops,
        dtype="bfloat16" if compute else "unknown",  # compute: the rate measured is bf16
        bound_ms=max(memory_ms, compute_ms),
        basis="compute" if compute else "memory",
    )


def share_of_light(bound: SpeedOfLight | None, time_ms: float | None) -> float | None:
    """How close `time_ms` comes to the bound: 1.0 is the bound itself."""
    if bound is None or bound.bound_ms is None or not time_ms:
        return None
    return bound.bound_ms / time_ms


def _counted_flops(timings: Mapping[str, Any]) -> int:
    """FLOPs of one call, as the verifier counted them (its rate times the call's time)."""
    rate = timings.get("achieved_flop_per_s")
    median_ms = (timings.get("candidate") or {}).get("median_ms")
    if not rate or not median_ms:
        return 0
    return round(float(rate) * float(median_ms) / 1e3)
