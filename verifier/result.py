"""The verifier's job description and structured result: plain data, JSON-able.

A job crosses a process boundary (a subprocess, a Ray actor), so both types convert to
and from plain dicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

STAGES = (
    "static",
    "import",
    "compile",
    "runtime",
    "timeout",
    "crash",
    "sandbox",
    "mismatch",
    "nondeterministic",
    "cheat",
    "timing-cheat",
)


@dataclass(frozen=True)
class VerifyJob:
    reference_source: str
    candidate_source: str
    framework: str = "torch"  # torch | numpy | mindspore
    device: str = "cpu"  # cpu | cuda:N | ascend:N
    task_type: str = "precision_only"  # or profile
    trials: int = 3
    timeout_s: float = 120.0
    seed: int = 0
    small_shapes: bool = False  # use get_small_inputs() when the task file defines it
    tolerances: dict[str, tuple[float, float]] = field(default_factory=dict)  # dtype->(atol,rtol)
    worker: str | None = None  # a warm-worker pool of its own (default: the device's pool)
    roofline: str = "auto"  # profile mode: auto | bandwidth | matmul
    flop_count: float | None = None  # profile mode: FLOPs of one forward, when known

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifyJob:
        known = {f.name for f in fields(cls)}
        clean = {k: v for k, v in data.items() if k in known}
        clean["tolerances"] = {k: tuple(v) for k, v in clean.get("tolerances", {}).items()}
        return cls(**clean)


@dataclass(frozen=True)
class TimeBreakdown:
    """Where one verification's seconds went (docs/verifier.md, "Speed").

    Phases: building inputs, running the reference, compiling the candidate's kernels ahead
    of its first call, the correctness trials (candidate runs and checks), profile-mode
    timing, and waiting for the device while other jobs used it (``wait_s``, the device
    gate: verifier/device_gate.py); ``other_s`` is the rest of ``wall_s`` (loading, static
    checks, clean-up), and ``worker_start_s`` the start of the warm worker when this job
    had to wait for one. ``gpu_busy_fraction`` is kernel and copy time over wall time
    outside the timing phase and the waits (None on CPU or where the profiler is
    unavailable).
    """

    inputs_s: float = 0.0
    reference_s: float = 0.0
    compile_s: float = 0.0
    trials_s: float = 0.0
    timing_s: float = 0.0
    wait_s: float = 0.0
    other_s: float = 0.0
    wall_s: float = 0.0
    worker_start_s: float = 0.0
    gpu_busy_fraction: float | None = None
    reference_cache_hits: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimeBreakdown:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class VerifyResult:
    passed: bool
    stage: str | None  # None when passed; else one of STAGES
    message: str
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    frac_mismatch: float | None = None
    first_bad_index: list[int] | None = None
    trials_run: int = 0
    duration_s: float = 0.0
    timings: dict[str, Any] | None = None  # profile mode: see docs/verifier.md
    reference_error: bool = False  # the task file itself failed: no candidate can pass
    # profile mode: faster than every baseline by more than reverify.SUSPICIOUS_SPEEDUP,
    # and whether a fresh worker process verified and timed it again (reverify.py)
    suspicious_speedup: bool = False
    reverified: bool = False
    breakdown: TimeBreakdown | None = None  # where the time went
    # (mode, start, end) in time.monotonic() seconds: when the job held the device gate in
    # which mode, and waited for it ("wait"); verifier/gate_client.py
    device_spans: tuple[tuple[str, float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifyResult:
        known = {f.name for f in fields(cls)}
        clean = {k: v for k, v in data.items() if k in known}
        if isinstance(clean.get("breakdown"), dict):
            clean["breakdown"] = TimeBreakdown.from_dict(clean["breakdown"])
        spans = clean.get("device_spans") or ()
        clean["device_spans"] = tuple((str(m), float(a), float(b)) for m, a, b in spans)
        return cls(**clean)

    @classmethod
    def failure(cls, stage: str, message: str, **extra: Any) -> VerifyResult:
        return cls(passed=False, stage=stage, message=message, **extra)


@dataclass(frozen=True)
class RayVerifyResult(VerifyResult):
    """A `VerifyResult` from a Ray cluster (machine/ray_verification.py) that also says
    where it ran and which attempts the cluster lost."""

    node: str | None = None
    retries: list[dict[str, str]] = field(default_factory=list)  # [{"error", "message"}]


def decode_result(data: dict[str, Any]) -> VerifyResult:
    """The result a stored dict holds: a Ray one when it names its node or retries, and
    fields older writers left out take their defaults."""
    kind = RayVerifyResult if {"node", "retries"} & data.keys() else VerifyResult
    return kind.from_dict({"stage": None, "message": "", **data})
