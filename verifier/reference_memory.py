"""Whose fault running out of memory is: the task file's, the verifier's or the candidate's.

The verifier marks its steps with ``memory_step``; the innermost step an out-of-memory
error leaves names it. A step of the task file's own (building the reference, its
``get_inputs()``, the reference's run) is the task's the first time it runs in a job: if
it does not fit then, the task's shapes do not fit the worker and no candidate can pass,
so the result says so, names the CPU worker's memory cap and its config key, and suggests
``get_small_inputs()``. Once that step has fit in the job, running out of memory in it
again is the verifier's (what it holds beside it), as is any error raised in the
verifier's own work around it (the float64 second look, comparisons, timing's copies):
that result names the step, the device, what was asked and held, and a fix, and does not
stop the task. An error raised in the candidate's code is the candidate's (``verifier.child``).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import traceback
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

import torch

from verifier.process import MEMORY_ENV

MEMORY_KEY = "verifier.memory_headroom_gib"
WORKERS_KEY = "verifier.workers_per_device"
CANDIDATE_FILE_MARK = "aikg_candidate_"  # verifier.loading names the candidate's file so
_STEP_ATTR = "aikg_memory_step"
GIB = 2**30

# keys of the task's own steps that have fit in the running job (None: outside a job)
_fitted: contextvars.ContextVar[set[Hashable] | None] = contextvars.ContextVar(
    "aikg_fitted_steps", default=None
)


@dataclass(frozen=True)
class MemoryStep:
    name: str
    task_own: bool


@dataclass(frozen=True)
class OutOfMemory:
    """Whose an out-of-memory error is (``task_own``: the task file's) and what to tell."""

    message: str
    task_own: bool


def is_out_of_memory(exc: BaseException) -> bool:
    text = str(exc)
    return (
        isinstance(exc, MemoryError)
        or type(exc).__name__ == "OutOfMemoryError"
        or "out of memory" in text
        or "can't allocate memory" in text
    )


def out_of_memory_in(exc: BaseException | None) -> BaseException | None:
    """The first out-of-memory error in ``exc``'s chain (a wrapper quoting its text is not
    it), the chain followed as Python prints it: the explicit cause, else the exception
    being handled when it was raised (unless suppressed)."""
    found = None
    while exc is not None:
        if is_out_of_memory(exc):
            found = exc
        if exc.__cause__ is not None or exc.__suppress_context__:
            exc = exc.__cause__
        else:
            exc = exc.__context__
    return found


@contextlib.contextmanager
def job_steps() -> Iterator[None]:
    """One job's record of which of the task's own steps have fit."""
    token = _fitted.set(set())
    try:
        yield
    finally:
        _fitted.reset(token)


@contextlib.contextmanager
def memory_step(name: str, task_key: Hashable | None = None) -> Iterator[None]:
    """Names the block for an out-of-memory error raised in it (unless an inner step did).
    ``task_key``: the block is the task file's own work, known by that key; the task's only
    until it has fit once in the job."""
    fitted = _fitted.get()
    task_own = task_key is not None and (fitted is None or task_key not in fitted)
    try:
        yield
    except BaseException as exc:
        oom = out_of_memory_in(exc)
        if oom is not None and not hasattr(oom, _STEP_ATTR):
            fitted_before = task_key is not None and not task_own
            label = f"{name}, which fit earlier in this job" if fitted_before else name
            setattr(oom, _STEP_ATTR, MemoryStep(label, task_own))
        raise
    if task_key is not None and fitted is not None:
        fitted.add(task_key)


def _raised_in_candidate(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return any(CANDIDATE_FILE_MARK in frame.filename for frame in frames)


def attribute_out_of_memory(exc: BaseException | None, device: str) -> OutOfMemory | None:
    """Whose the out-of-memory error in ``exc``'s chain is, with its message; None when
    there is none or the candidate's code raised it."""
    oom = out_of_memory_in(exc)
    if oom is None or _raised_in_candidate(oom):
        return None
    step = getattr(oom, _STEP_ATTR, None)
    if step is None or step.task_own:
        return OutOfMemory(_task_message(oom, device), True)
    return OutOfMemory(_verifier_message(oom, device, step.name), False)


def _error_line(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _cpu_cap() -> float | None:
    headroom = os.environ.get(MEMORY_ENV)
    return int(headroom) / GIB if headroom else None


def _task_message(exc: BaseException, device: str) -> str:
    cap = _cpu_cap()
    if device.startswith("cpu") and cap:
        where = (
            f"the CPU verifier worker's memory cap ({cap:g} GiB beyond torch and Triton, "
            f"config key {MEMORY_KEY})"
        )
        raise_it = f", or raise {MEMORY_KEY}"
    else:
        where, raise_it = f"the memory of {device}", ""
    return (
        f"the reference's own model, inputs or run do not fit in {where} ({_error_line(exc)}): "
        f"not the candidate's fault; define get_small_inputs() in the task file with smaller "
        f"shapes (used on the cpu backend){raise_it}"
    )


def _asked(exc: BaseException) -> str:
    text = str(exc)
    cuda = re.search(r"Tried to allocate ([\d.]+ [KMGT]?i?B)", text)
    if cuda:
        return cuda.group(1)
    host = re.search(r"tried to allocate (\d+) bytes", text)
    return f"{int(host.group(1)) / GIB:.2f} GiB" if host else "an unknown amount"


def _held(device: str) -> str:
    if device.startswith("cuda"):
        total = torch.cuda.get_device_properties(device).total_memory / GIB
        held = torch.cuda.memory_allocated(device) / GIB
        return f"this worker held {held:.2f} GiB of {total:.2f} GiB"
    resident = _resident_gib()
    cap = _cpu_cap()
    beyond = f" (cap: {cap:g} GiB beyond torch and Triton)" if cap else ""
    return f"this worker held {resident:.2f} GiB resident{beyond}"


def _resident_gib() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / GIB
    except OSError:
        pass
    return 0.0


def _verifier_message(exc: BaseException, device: str, step: str) -> str:
    if device.startswith("cpu") and _cpu_cap():
        roomier = f"raise {MEMORY_KEY}"
    else:
        roomier = f"run one job per device ({WORKERS_KEY}: 1)"
    return (
        f"the verifier ran out of memory in its own work ({step}) on {device}, asking "
        f"{_asked(exc)} while {_held(device)} ({_error_line(exc)}): not the task file's or "
        f"the candidate's fault; {roomier}, give the task smaller inputs, or report it as "
        f"an aikg bug with this message"
    )
