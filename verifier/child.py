"""What runs inside the worker process: one job from source strings to a ``VerifyResult``.

``run_job`` never raises for a bad candidate; ``verify_in_process`` is the same, usable
from tests and tools without a subprocess (and without isolation).
"""

from __future__ import annotations

import gc
import hashlib
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from verifier.breakdown import JobClock, phase
from verifier.compile_ahead import compile_kernels
from verifier.gate_client import GateClient
from verifier.loading import build_model, load_module, model_call, share_parameters, unload
from verifier.reference_cache import ReferenceKey, reference_scope, worker_cache
from verifier.reference_memory import (
    attribute_out_of_memory,
    job_steps,
    memory_step,
    out_of_memory_in,
)
from verifier.result import VerifyJob, VerifyResult
from verifier.static_check import check_source
from verifier.timing import looks_like_matmul, profile
from verifier.trials import CandidateFailure, ReferenceFailure, run_trials


@dataclass
class Outcome:
    result: VerifyResult
    recycle: bool  # the worker's state may be damaged: replace it
    out_of_memory: bool = False  # ran out of memory: perhaps only beside another job


RERUN_ALONE_NOTE = "run again alone on the device after running out of memory beside another job"


def baseline_key(job: VerifyJob, device: str) -> str:
    """Which eager/compile timings a job may reuse: same reference, framework, device, shapes."""
    text = f"{job.framework}|{device}|{job.small_shapes}|{job.reference_source}"
    return hashlib.sha256(text.encode()).hexdigest()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:500] if first else type(exc).__name__


def _where(exc: BaseException, path_hint: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if path_hint in f.filename]
    return f" (candidate line {frames[-1].lineno})" if frames else ""


def _is_compile_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"CompilationError", "CompileTimeAssertionFailure", "InterpreterError"})


def _is_fatal(exc: BaseException) -> bool:
    text = str(exc)
    return (
        isinstance(exc, (MemoryError, torch.cuda.OutOfMemoryError))
        or "out of memory" in text
        or "can't allocate memory" in text
        or "CUDA error" in text
        or "illegal memory access" in text
        or type(exc).__name__ == "AcceleratorError"
    )


@dataclass
class DeviceModes:
    """Moves the job between the device gate's modes, the waits timed as their own phase.
    ``alone``: the job shares the device with nobody (``shared`` is taken as ``exclusive``)."""

    gate: GateClient
    clock: JobClock
    device: str
    alone: bool = False

    def enter(self, mode: str) -> None:
        if self.alone and mode == "shared":
            mode = "exclusive"
        if mode == "free" and self.gate.mode != "free" and self.device.startswith("cuda"):
            torch.cuda.synchronize(self.device)  # none of its work still runs once it lets go
        with self.clock.waiting():
            self.gate.switch(mode)


def run_job(job: VerifyJob, workdir: Path, gate: GateClient | None = None) -> Outcome:
    """Runs ``job``; the result carries its duration, where the time went and when it held
    the device in which mode (``gate`` asks the parent; None: nobody else to wait for)."""
    started = time.monotonic()
    gate = gate or GateClient()
    gate.begin()
    cache = worker_cache()
    hits_before = cache.hits
    key = ReferenceKey.of(
        job.reference_source, job.framework, job.device, job.small_shapes, job.seed
    )
    if job.device.startswith("cuda"):
        torch.cuda.set_device(job.device)  # Triton launches on the current device, not the tensors'
    with JobClock(job.device) as clock, reference_scope(cache, key):
        outcome = _run(job, workdir, clock, DeviceModes(gate, clock, job.device))
        if outcome.out_of_memory and gate.may_share and job.device.startswith("cuda"):
            _release_device_memory()
            outcome = _run(job, workdir, clock, DeviceModes(gate, clock, job.device, alone=True))
            outcome = replace(
                outcome,
                result=replace(
                    outcome.result, message=f"{outcome.result.message} ({RERUN_ALONE_NOTE})"
                ),
            )
    breakdown = replace(clock.result(), reference_cache_hits=cache.hits - hits_before)
    result = replace(
        outcome.result,
        duration_s=time.monotonic() - started,
        breakdown=breakdown,
        device_spans=gate.finish(),
    )
    return Outcome(result, outcome.recycle)


def _release_device_memory() -> None:
    """What the failed attempt still holds goes back to the device (its tensors are garbage)."""
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


def _memory_outcome(exc: BaseException, device: str, stage: str) -> Outcome | None:
    """The outcome of an out-of-memory error in ``exc``'s chain that the candidate's code
    did not raise: the task file's (no candidate can pass) or the verifier's own."""
    verdict = attribute_out_of_memory(exc, device)
    if verdict is None:
        return None
    failure = VerifyResult.failure(stage, verdict.message, reference_error=verdict.task_own)
    return Outcome(failure, True, True)


def _run(job: VerifyJob, workdir: Path, clock: JobClock, modes: DeviceModes) -> Outcome:
    with job_steps():
        return _run_steps(job, workdir, clock, modes)


def _run_steps(job: VerifyJob, workdir: Path, clock: JobClock, modes: DeviceModes) -> Outcome:
    findings = check_source(job.candidate_source)
    if findings:
        text = "; ".join(str(f) for f in findings[:8])
        return Outcome(VerifyResult.failure("static", f"static check failed: {text}"), False)
    if job.framework == "mindspore":
        try:
            import mindspore  # noqa: F401
        except ImportError:
            message = "framework mindspore needs MindSpore: pip install 'aikg[mindspore]'"
            return Outcome(VerifyResult.failure("import", message), False)
    device = job.device
    try:
        with memory_step("loading the reference", task_key="load"):
            task = load_module(job.reference_source, "reference", workdir)
            modes.enter("shared")
            ref_device = device if job.framework == "torch" else "cpu"
            reference_model = build_model(task.Model, task, job.seed, ref_device, job.small_shapes)
            reference = model_call(reference_model)
    except BaseException as exc:
        message = f"the reference task failed to load: {_short(exc)}"
        failure = VerifyResult.failure("import", message, reference_error=True)
        return _memory_outcome(exc, device, "import") or Outcome(failure, True)
    loaded: list[Any] = [task]

    def make_candidate(on: str = device) -> Any:
        """A fresh instance on ``on``; the reference's weights only where they matter (not
        on the meta device, where compiling ahead builds one)."""
        module = load_module(job.candidate_source, "candidate", workdir)
        loaded.append(module)
        if not hasattr(module, "ModelNew"):
            raise CandidateFailure("import", "the candidate defines no ModelNew")
        model = build_model(module.ModelNew, task, job.seed, on, job.small_shapes)
        if on == device:
            share_parameters(reference_model, model)
        return model

    stage = "import"
    trials_run = 0
    try:
        candidate = make_candidate()
        stage = "runtime"
        modes.enter("free")  # compiling launches nothing: another job may time meanwhile
        with phase("compile"), memory_step("compiling the candidate ahead"):
            compile_kernels(make_candidate, task, job.seed, device, job.small_shapes)
        modes.enter("shared")
        with phase("trials"), memory_step("the correctness trials"):
            trials_run = run_trials(
                job.seed,
                max(1, job.trials),
                task,
                reference,
                candidate,
                make_candidate,
                device,
                job.small_shapes,
                job.framework,
                dict(job.tolerances),
            )
        timings = None
        if job.task_type == "profile":
            roofline = job.roofline
            if roofline == "auto":
                roofline = "matmul" if looks_like_matmul(job.reference_source) else "bandwidth"
            with clock.timing(), memory_step("timing"):
                timings = profile(
                    task,
                    reference,
                    make_candidate(),  # a fresh instance: no state carried from the trials
                    device,
                    job.seed + 7,
                    job.small_shapes,
                    job.framework,
                    roofline,
                    job.flop_count,
                    baseline_key(job, device),
                    dict(job.tolerances),
                    claim_device=lambda: modes.enter("exclusive"),
                )
        message = f"passed {trials_run} trials on {device}"
        return Outcome(
            VerifyResult(True, None, message, trials_run=trials_run, timings=timings), False
        )
    except CandidateFailure as failure:
        mm = failure.mismatch
        extra: dict[str, Any] = {"trials_run": trials_run}
        if mm is not None:
            extra.update(
                max_abs_err=mm.max_abs_err,
                max_rel_err=mm.max_rel_err,
                frac_mismatch=mm.frac_mismatch,
                first_bad_index=mm.first_bad_index,
            )
        oom = out_of_memory_in(failure) is not None or "out of memory" in failure.message
        return Outcome(VerifyResult.failure(failure.stage, failure.message, **extra), False, oom)
    except ReferenceFailure as exc:
        failure = VerifyResult.failure("runtime", str(exc), reference_error=True)
        return _memory_outcome(exc, device, "runtime") or Outcome(failure, True)
    except SystemExit as exc:
        message = f"the candidate called sys.exit({exc.code!r}); kernels must not exit the process"
        return Outcome(VerifyResult.failure("runtime", message), True)
    except BaseException as exc:
        where = _where(exc, "aikg_candidate_")
        if _is_compile_error(exc) and stage == "runtime":
            return Outcome(
                VerifyResult.failure("compile", f"Triton compile error{where}: {_short(exc)}"),
                False,
            )
        memory_outcome = _memory_outcome(exc, device, "runtime")
        if memory_outcome is not None:  # the task file's or the verifier's, not the candidate's
            return memory_outcome
        if _is_fatal(exc):
            message = f"out of memory or device error{where}: {_short(exc)}"
            ran_out = out_of_memory_in(exc) is not None
            return Outcome(VerifyResult.failure("runtime", message), True, ran_out)
        prefix = "ModelNew failed to import or build" if stage == "import" else "forward raised"
        return Outcome(
            VerifyResult.failure(stage, f"{prefix}{where}: {_short(exc)}"), stage == "import"
        )
    finally:
        for module in loaded:
            unload(module)


def verify_in_process(job: VerifyJob) -> VerifyResult:
    """Runs a job in this process (no isolation); for tests and trusted tools."""
    with tempfile.TemporaryDirectory(prefix="aikg-verify-") as tmp:
        return run_job(job, Path(tmp)).result
