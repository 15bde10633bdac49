"""Profile mode: timing the candidate against eager and ``torch.compile`` baselines.

On CUDA: warm-up, then the median of many runs timed with CUDA events, the L2 cache
flushed (a 256 MB write) and fresh input clones before every run. The device's copy
bandwidth and matmul rate are measured once per worker process and give the roofline
fraction. On CPU, Triton runs in its interpreter: timings come from ``time.perf_counter``
and are not speedups.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch

from verifier.compare import flatten_outputs, to_torch
from verifier.flop_count import counted_flops
from verifier.loading import init_inputs
from verifier.precision import pinned_precision
from verifier.reverify import SUSPICIOUS_SPEEDUP
from verifier.timed_audit import TimedCallAudit
from verifier.trials import TrialInputs, make_inputs, run_reference, trial_seed

L2_FLUSH_BYTES = 256 << 20
CUDA_RUNS, CUDA_WARMUP = 100, 10
# Slow calls are timed fewer times: the timed runs of one function stop near this much GPU
# time, but never below CUDA_MIN_RUNS (a 50 ms convolution: 20 runs, not 100).
CUDA_BUDGET_MS, CUDA_MIN_RUNS = 1000.0, 20
CPU_RUNS, CPU_WARMUP = 3, 1
_device_caps: dict[str, dict[str, float]] = {}


def _stats(times_ms: list[float]) -> dict[str, float]:
    ordered = sorted(times_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "median_ms": statistics.median(ordered),
        "p10_ms": pick(0.1),
        "p90_ms": pick(0.9),
        "min_ms": ordered[0],
        "spread_ms": pick(0.9) - pick(0.1),
        "runs": len(ordered),
    }


def _clone_args(args: list[Any]) -> list[Any]:
    return [a.clone() if isinstance(a, torch.Tensor) else a for a in args]


def timed_runs(call_ms: float, most: int = CUDA_RUNS) -> int:
    """How many timed runs a call of ``call_ms`` gets: ``most``, fewer when they would take
    over ``CUDA_BUDGET_MS``, never fewer than ``CUDA_MIN_RUNS``."""
    if call_ms <= 0:
        return most
    return max(min(CUDA_MIN_RUNS, most), min(most, int(CUDA_BUDGET_MS / call_ms)))


def _warm_up(fn: Callable[[list[Any]], Any], args: list[Any], device: str, warmup: int) -> float:
    """Calls ``fn`` ``warmup`` times; the mean milliseconds of the calls after the first
    (which may compile), 0.0 when there are none."""
    events = []
    for index in range(warmup):
        fresh = _clone_args(args)
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn(fresh)
        end.record()
        if index:
            events.append((start, end))
    torch.cuda.synchronize(device)
    return statistics.fmean(s.elapsed_time(e) for s, e in events) if events else 0.0


def time_cuda(
    fn: Callable[[list[Any]], Any],
    args: list[Any],
    device: str,
    runs: int,
    warmup: int,
    on_runs: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """Median of up to ``runs`` CUDA-event timings (``timed_runs`` of the warm-up's pace; told
    to ``on_runs`` before the first), L2 flushed and inputs cloned before each."""
    flush = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device=device)
    with torch.no_grad():
        runs = timed_runs(_warm_up(fn, args, device, warmup), runs)
        if on_runs is not None:
            on_runs(runs)
        events = []
        for _ in range(runs):
            fresh = _clone_args(args)
            flush.zero_()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn(fresh)
            end.record()
            events.append((start, end))
        torch.cuda.synchronize(device)
    return _stats([s.elapsed_time(e) for s, e in events])


def time_cpu(fn: Callable[[list[Any]], Any], args: list[Any], runs: int) -> dict[str, float]:
    times = []
    with torch.no_grad():
        for _ in range(CPU_WARMUP):
            fn(_clone_args(args))
        for _ in range(runs):
            fresh = _clone_args(args)
            start = time.perf_counter()
            fn(fresh)
            times.append((time.perf_counter() - start) * 1e3)
    return _stats(times)


def device_caps(device: str) -> dict[str, float]:
    """Copy bandwidth (bytes/s) and bf16 matmul rate (FLOP/s), measured once per process."""
    if device in _device_caps:
        return _device_caps[device]
    n_bytes = 1 << 30
    copy_ms = _copy_ms(device, n_bytes)
    n = 8192
    matmul_ms = _matmul_ms(device, n)
    caps = {
        "copy_bytes_per_s": 2 * n_bytes / (copy_ms / 1e3),
        "matmul_bf16_flop_per_s": 2 * n**3 / (matmul_ms / 1e3),
    }
    _device_caps[device] = caps
    return caps


def _copy_ms(device: str, n_bytes: int) -> float:
    src = torch.empty(n_bytes, dtype=torch.uint8, device=device).random_()
    dst = torch.empty_like(src)
    return time_cuda(lambda _: dst.copy_(src), [], device, runs=20, warmup=3)["median_ms"]


def _matmul_ms(device: str, n: int) -> float:
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    return time_cuda(lambda _: a @ b, [], device, runs=20, warmup=3)["median_ms"]


def _tensor_bytes(values: list[Any]) -> int:
    return sum(
        t.numel() * t.element_size() for t in map(to_torch, values) if isinstance(t, torch.Tensor)
    )


def _matmul_flops(args: list[Any]) -> float | None:
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if len(tensors) < 2 or tensors[0].dim() < 2 or tensors[1].dim() < 2:
        return None
    a, b = tensors[0], tensors[1]
    if a.shape[-1] != b.shape[-2]:
        return None
    batch = max(a[..., 0, 0].numel(), b[..., 0, 0].numel())
    return 2.0 * batch * a.shape[-2] * a.shape[-1] * b.shape[-1]


def task_flops(task: ModuleType, inputs: list[Any], small: bool) -> float | None:
    """FLOPs of one forward from the task file's ``flops(inputs, init_inputs)``, if it has one.

    The benchmark suite's matmul tasks define it: the verifier cannot count the FLOPs of a
    ``nn.Linear`` from the inputs alone (the weight is a parameter).
    """
    count = getattr(task, "flops", None)
    if not callable(count):
        return None
    try:
        value = float(count(list(inputs), init_inputs(task, small)))
    except Exception:  # a broken helper must not fail the candidate; fall back to counting
        return None
    return value if value > 0 else None


def looks_like_matmul(reference_source: str) -> bool:
    return bool(re.search(r"matmul|\.mm\(|bmm|\s@\s|nn\.Linear|einsum", reference_source))


def profile(
    task: ModuleType,
    reference: Any,
    candidate: Any,
    device: str,
    seed: int,
    small: bool,
    framework: str,
    roofline: str,
    flop_count: float | None,
    baseline_key: str | None = None,
    tolerances: dict[str, tuple[float, float]] | None = None,
    claim_device: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Time the candidate and (once per `baseline_key` in this worker) eager and compile.

    The candidate's timed calls go through a ``TimedCallAudit`` (``timed_audit.py``):
    raises ``CandidateFailure`` (stage ``timing-cheat``) when they did not do the work.
    ``claim_device`` is called once the inputs and the checked call's expected output are
    ready, right before anything is timed: the worker takes the device gate exclusively
    there. The ``torch.compile`` baseline compiles after it, since its first call
    autotunes kernels by timing them.
    """
    inputs = make_inputs(task, seed, device, small, framework)
    flop_count = (
        flop_count
        or task_flops(task, inputs.pristine, small)
        or counted_flops(reference, inputs.pristine)
    )
    inputs.pristine.clear()  # counted; timing clones the other two before every call
    checked = make_inputs(task, trial_seed(seed, 1), device, small, framework)
    checked.candidate.clear()  # the checked call runs on a clone of the pristine copy
    expected = run_reference(reference, checked, device)
    cuda = device.startswith("cuda")
    runs, warmup = (CUDA_RUNS, CUDA_WARMUP) if cuda else (CPU_RUNS, CPU_WARMUP)
    audit = TimedCallAudit(candidate, checked, device, seed, range(warmup, warmup + runs))
    claim_device()
    if cuda:
        timings = _profile_cuda(
            inputs, reference, audit, device, framework, roofline, flop_count, baseline_key
        )
    else:
        timings = _profile_cpu(inputs, reference, audit)
    audit.check(expected, tolerances or {}, reference)
    return timings


# Eager and torch.compile timings of a reference, by (source, framework, device, shapes):
# they do not change between candidates, and compiling is the slowest part of a profile.
_BASELINES: dict[str, tuple[dict[str, float] | None, dict[str, float] | None, str | None]] = {}


def _baselines(
    inputs: TrialInputs, reference: Any, device: str, framework: str, runs: int, warmup: int
) -> tuple[dict[str, float] | None, dict[str, float] | None, str | None]:
    if framework != "torch":
        return time_cpu(lambda a: reference(*a), inputs.reference, runs=10), None, None
    eager = time_cuda(lambda a: reference(*a), inputs.reference, device, runs, warmup)
    try:
        compiled = torch.compile(reference)
        comp = time_cuda(lambda a: compiled(*a), inputs.reference, device, runs, warmup)
    except Exception as exc:
        return eager, None, (str(exc).splitlines()[0][:300] if str(exc) else repr(exc))
    return eager, comp, None


def _profile_cpu(inputs: TrialInputs, reference: Any, audit: TimedCallAudit) -> dict[str, Any]:
    with audit:
        cand = time_cpu(audit, inputs.candidate, runs=CPU_RUNS)
    with pinned_precision():
        eager = time_cpu(lambda a: reference(*a), inputs.reference, runs=CPU_RUNS)
    return {
        "candidate": cand,
        "eager": eager,
        "compile": None,
        "note": "CPU: Triton ran in its interpreter; these timings are not speedups",
    }


def _profile_cuda(
    inputs: TrialInputs,
    reference: Any,
    audit: TimedCallAudit,
    device: str,
    framework: str,
    roofline: str,
    flop_count: float | None,
    baseline_key: str | None = None,
) -> dict[str, Any]:
    runs, warmup = CUDA_RUNS, CUDA_WARMUP
    candidate = audit.candidate
    timings: dict[str, Any] = {"device_name": torch.cuda.get_device_name(device)}
    # measured first: on a fresh worker this also brings the GPU to its working clocks
    # before anything is timed (and before torch.compile autotunes its kernels)
    caps = device_caps(device)
    with audit:
        cand = time_cuda(audit, inputs.candidate, device, runs, warmup, audit.timed_calls)
    cached = _BASELINES.get(baseline_key) if baseline_key else None
    if cached is None:
        with pinned_precision():
            cached = _baselines(inputs, reference, device, framework, runs, warmup)
        if baseline_key:
            _BASELINES[baseline_key] = cached
    else:
        timings["baselines_cached"] = True
    eager, comp, compile_error = cached
    if compile_error:
        timings["compile_error"] = compile_error
    timings.update({"candidate": cand, "eager": eager, "compile": comp})
    timings["device_copy_bytes_per_s"] = caps["copy_bytes_per_s"]
    timings["device_matmul_bf16_flop_per_s"] = caps["matmul_bf16_flop_per_s"]
    with torch.no_grad():
        out = candidate(*_clone_args(inputs.candidate))
    moved = _tensor_bytes(inputs.candidate) + _tensor_bytes(flatten_outputs(out))
    _fill_rates(timings, cand["median_ms"], moved, inputs.candidate, roofline, flop_count, caps)
    suspicious = _suspicion(timings)
    if suspicious:
        with audit:
            recheck = time_cuda(audit, inputs.candidate, device, runs, warmup)
        timings["recheck"] = recheck
        _fill_rates(
            timings, recheck["median_ms"], moved, inputs.candidate, roofline, flop_count, caps
        )
        suspicious = _suspicion(timings)
    timings["suspicious"] = bool(suspicious)
    if suspicious:
        timings["suspicious_reason"] = suspicious
    return timings


def _fill_rates(
    timings: dict[str, Any],
    cand_ms: float,
    moved: int,
    args: list[Any],
    roofline: str,
    flop_count: float | None,
    caps: dict[str, float],
) -> None:
    seconds = cand_ms / 1e3
    eager, comp = timings.get("eager"), timings.get("compile")
    timings["speedup_vs_eager"] = eager["median_ms"] / cand_ms if eager else None
    timings["speedup_vs_compile"] = comp["median_ms"] / cand_ms if comp else None
    timings["bytes_moved"] = moved
    timings["achieved_bytes_per_s"] = moved / seconds
    flops = flop_count if flop_count else (_matmul_flops(args) if roofline == "matmul" else None)
    if flops:
        timings["achieved_flop_per_s"] = flops / seconds
        timings["roofline"] = "matmul_bf16"
        timings["roofline_fraction"] = flops / seconds / caps["matmul_bf16_flop_per_s"]
    else:
        timings["roofline"] = "copy_bandwidth"
        timings["roofline_fraction"] = moved / seconds / caps["copy_bytes_per_s"]


def _suspicion(timings: dict[str, Any]) -> str:
    reasons = []
    speedup = timings.get("speedup_vs_eager")
    if speedup is not None and speedup > SUSPICIOUS_SPEEDUP:
        reasons.append(f"speedup over eager {speedup:.1f}x > {SUSPICIOUS_SPEEDUP:g}x")
    if timings["roofline_fraction"] > 1.0:
        reasons.append(f"{timings['roofline_fraction']:.0%} of the measured {timings['roofline']}")
    return "; ".join(reasons)
