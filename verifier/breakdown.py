"""Where a verification's time went: named phases, and how busy the GPU was outside timing.

``phase(name)`` times a block into the breakdown active in this context (none: it only
runs the block). Phases nest: an inner phase's time is taken out of the outer one, so the
phases never count a second twice and always add up to at most the wall time.

The GPU busy fraction is the time the device ran kernels or copies (merged intervals from
torch's profiler) over the wall time of the job outside the timing phase and outside its
waits for the device gate: timing keeps the GPU busy by construction and is not profiled,
so the profiler cannot perturb the timings, and while a job waits another one uses the GPU.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Any

from verifier.result import TimeBreakdown

PHASES = ("inputs", "reference", "compile", "trials", "timing", "wait")

_active: contextvars.ContextVar[PhaseClock | None] = contextvars.ContextVar(
    "aikg_breakdown", default=None
)


class PhaseClock:
    """Seconds per phase of one job, nested phases excluded from their parents."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self._stack: list[list[float]] = []  # [start, seconds taken by inner phases]

    @contextlib.contextmanager
    def measure(self, name: str) -> Iterator[None]:
        frame = [time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            total = time.perf_counter() - frame[0]
            self.seconds[name] = self.seconds.get(name, 0.0) + total - frame[1]
            if self._stack:
                self._stack[-1][1] += total


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Counts the block's time as ``name`` in the active breakdown, if there is one."""
    clock = _active.get()
    if clock is None:
        yield
        return
    with clock.measure(name):
        yield


class GpuBusy:
    """Merged kernel/copy time on the GPU while recording (torch's profiler, CUDA only)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.busy_s = 0.0
        self.recorded_s = 0.0
        self.available = device.startswith("cuda")
        self._profiler: Any = None
        self._since = 0.0

    def start(self) -> None:
        if not self.available or self._profiler is not None:
            return
        try:
            from torch.profiler import ProfilerActivity, profile

            self._profiler = profile(activities=[ProfilerActivity.CUDA])
            self._profiler.__enter__()
        except Exception:  # no CUPTI, or a profiler already running: no busy fraction
            self._profiler, self.available = None, False
            return
        self._since = time.perf_counter()

    def stop(self) -> None:
        profiler, self._profiler = self._profiler, None
        if profiler is None:
            return
        import torch

        torch.cuda.synchronize(self.device)
        self.recorded_s += time.perf_counter() - self._since
        try:
            profiler.__exit__(None, None, None)
            self.busy_s += _merged_device_seconds(profiler.events())
        except Exception:
            self.available = False

    def exclude(self, seconds: float) -> None:
        """Takes ``seconds`` the job spent waiting out of the recorded time."""
        if self._profiler is not None:
            self.recorded_s -= seconds

    @property
    def fraction(self) -> float | None:
        if not self.available or self.recorded_s <= 0:
            return None
        return min(1.0, self.busy_s / self.recorded_s)


def _merged_device_seconds(events: Any) -> float:
    from torch.autograd import DeviceType

    spans = sorted(
        (e.time_range.start, e.time_range.end)
        for e in events
        if e.device_type == DeviceType.CUDA and e.time_range.end > e.time_range.start
    )
    busy, end = 0.0, float("-inf")
    for start, stop in spans:
        if start > end:
            busy += stop - start
            end = stop
        elif stop > end:
            busy += stop - end
            end = stop
    return busy / 1e6  # profiler times are microseconds


class JobClock:
    """The breakdown of one job: phases, the GPU outside timing and waits, the wall time."""

    def __init__(self, device: str) -> None:
        self.phases = PhaseClock()
        self.gpu = GpuBusy(device)
        self._started = time.perf_counter()
        self._token: contextvars.Token[PhaseClock | None] | None = None

    def __enter__(self) -> JobClock:
        self._token = _active.set(self.phases)
        self.gpu.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gpu.stop()
        if self._token is not None:
            _active.reset(self._token)

    @contextlib.contextmanager
    def timing(self) -> Iterator[None]:
        """The timing phase, with the profiler paused."""
        self.gpu.stop()
        try:
            with self.phases.measure("timing"):
                yield
        finally:
            self.gpu.start()

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Waiting for the device gate: its own phase, left out of the GPU busy fraction."""
        started = time.perf_counter()
        try:
            with self.phases.measure("wait"):
                yield
        finally:
            self.gpu.exclude(time.perf_counter() - started)

    def result(self) -> TimeBreakdown:
        wall = time.perf_counter() - self._started
        s = self.phases.seconds
        counted = sum(s.values())
        return TimeBreakdown(
            inputs_s=s["inputs"],
            reference_s=s["reference"],
            compile_s=s["compile"],
            trials_s=s["trials"],
            timing_s=s["timing"],
            wait_s=s["wait"],
            other_s=max(0.0, wall - counted),
            wall_s=wall,
            gpu_busy_fraction=self.gpu.fraction,
        )
