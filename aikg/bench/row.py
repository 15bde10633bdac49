"""`BenchRow`: one task's outcome in a benchmark run, as the report and the targets read it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from verifier.result import TimeBreakdown

STATUSES = ("verified", "failed", "unsupported", "error")
BASELINES = ("eager", "compile")


@dataclass(frozen=True)
class BenchRow:
    """One task's outcome in a benchmark run."""

    task_file: str
    op_name: str
    family: str
    status: str  # one of STATUSES
    steps: int = 0
    wall_s: float = 0.0
    speedup_vs_eager: float | None = None
    speedup_vs_compile: float | None = None
    achieved_gbps: float | None = None
    achieved_tflops: float | None = None
    roofline_fraction: float | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    message: str = ""
    dtype: str = ""  # the first input's dtype (float16, ...), for the matmul target
    # its speedup was over 10x every baseline: verified and timed again in a fresh process
    suspicious_speedup: bool = False
    verify_time: TimeBreakdown | None = None  # where its verifications' time went, all steps
    reference_from_prose: bool = False  # aikg wrote its reference from a prose description

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(
                f"unknown status {self.status!r} for {self.op_name}: use one of {STATUSES}"
            )
        if isinstance(self.verify_time, dict):  # read back from report.json
            object.__setattr__(self, "verify_time", TimeBreakdown.from_dict(self.verify_time))

    def speedup(self, baseline: str) -> float | None:
        if baseline not in BASELINES:
            raise ValueError(f"unknown baseline {baseline!r}: use one of {BASELINES}")
        return self.speedup_vs_eager if baseline == "eager" else self.speedup_vs_compile

    def correctness_only(self) -> BenchRow:
        """This row without its timing-derived fields (for interpreter runs)."""
        return replace(
            self,
            speedup_vs_eager=None,
            speedup_vs_compile=None,
            achieved_gbps=None,
            achieved_tflops=None,
            roofline_fraction=None,
        )
