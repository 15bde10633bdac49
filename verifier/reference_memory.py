"""Whose fault running out of memory is: the reference's own, or the candidate's.

An out-of-memory error raised outside the candidate's code (building the reference,
making its inputs, running it) means the task's shapes do not fit the worker: no candidate
can pass, so the result says so, names the CPU worker's memory cap and its config key, and
suggests `get_small_inputs()`.
"""

from __future__ import annotations

import os
import traceback

from verifier.process import MEMORY_ENV

MEMORY_KEY = "verifier.memory_headroom_gib"
CANDIDATE_FILE_MARK = "aikg_candidate_"  # verifier.loading names the candidate's file so


def is_out_of_memory(exc: BaseException) -> bool:
    text = str(exc)
    return (
        isinstance(exc, MemoryError)
        or type(exc).__name__ == "OutOfMemoryError"
        or "out of memory" in text
        or "can't allocate memory" in text
    )


def _raised_in_candidate(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return any(CANDIDATE_FILE_MARK in frame.filename for frame in frames)


def reference_out_of_memory(exc: BaseException | None, device: str) -> str | None:
    """The message for `exc` when it is an out-of-memory error of the reference's own, else
    None. `exc` may be a wrapper: its cause is looked at too."""
    while exc is not None and not is_out_of_memory(exc):
        exc = exc.__cause__
    if exc is None or _raised_in_candidate(exc):
        return None
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    error = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    headroom = os.environ.get(MEMORY_ENV)
    if device.startswith("cpu") and headroom:
        cap = (
            f"the CPU verifier worker's memory cap ({int(headroom) / 2**30:g} GiB beyond "
            f"torch and Triton, config key {MEMORY_KEY})"
        )
        raise_it = f", or raise {MEMORY_KEY}"
    else:
        cap, raise_it = f"the memory of {device}", ""
    return (
        f"the reference's own model, inputs or run do not fit in {cap} ({error}): not the "
        f"candidate's fault; define get_small_inputs() in the task file with smaller shapes "
        f"(used on the cpu backend){raise_it}"
    )
