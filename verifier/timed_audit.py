"""Checks on the timed calls of profile mode: what was timed is what was verified.

A candidate can behave in the trials and then, once it is called in a loop, return a
cached tensor or hand the work to torch. ``TimedCallAudit`` is what the timers call in
place of the candidate: every call must launch a Triton kernel, no call may run torch
compute or copy device data to the host outside kernels, and one call, picked at random
among the timed ones, runs on other data (fresh inputs, poisoned fresh output memory)
and its output is checked against the reference. A failure is stage ``timing-cheat``.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

import torch

from verifier.guards import KernelLaunches, TorchOpRecorder, poisoned_allocations
from verifier.trials import CandidateFailure, TrialInputs, check_trial_outputs

STAGE = "timing-cheat"


class TimedCallAudit:
    """Call it as ``audit(args)`` inside ``with audit:``; then ``audit.check(...)``."""

    def __init__(
        self, candidate: Any, checked_inputs: TrialInputs, device: str, seed: int, calls: range
    ) -> None:
        self.candidate = candidate
        self.checked_inputs = checked_inputs
        self.device = device
        self._seed = seed
        self._first_timed = calls.start
        self.checked_call = random.Random(seed).choice(calls)
        self.calls = 0
        self.idle_calls = 0
        self.checked_output: Any = None
        self._launches = KernelLaunches()
        # on a GPU without the tensor-method hook: it would inflate every timed call
        self._recorder = TorchOpRecorder(host_reads=not device.startswith("cuda"))
        self._stack = contextlib.ExitStack()

    def timed_calls(self, count: int) -> None:
        """The timers will make ``count`` timed calls (fewer for a slow kernel): the checked
        one is picked among those."""
        calls = range(self._first_timed, self._first_timed + count)
        self.checked_call = random.Random(self._seed).choice(calls)

    def __enter__(self) -> TimedCallAudit:
        self._stack.enter_context(self._launches)
        self._stack.enter_context(self._recorder)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def __call__(self, args: list[Any]) -> Any:
        index, self.calls = self.calls, self.calls + 1
        before = self._launches.count
        if index == self.checked_call:
            fresh = [
                v.clone() if isinstance(v, torch.Tensor) else v
                for v in self.checked_inputs.pristine
            ]
            with poisoned_allocations(self.device, 0):
                out = self.candidate(*fresh)
            self.checked_output = out
        else:
            out = self.candidate(*args)
        if self._launches.count == before:
            self.idle_calls += 1
        return out

    def check(
        self, expected: Any, tolerances: dict[str, tuple[float, float]], reference: Any
    ) -> None:
        """Raises ``CandidateFailure`` (``timing-cheat``) on what the timed calls did wrong."""
        if self._recorder.forbidden:
            raise CandidateFailure(
                STAGE,
                f"timed calls ran torch op(s) {', '.join(self._recorder.forbidden[:5])} outside "
                "any Triton kernel; what is timed must be the kernels that were verified",
            )
        if self.idle_calls:
            raise CandidateFailure(
                STAGE,
                f"{self.idle_calls} of {self.calls} timed calls launched no Triton kernel "
                "(a cached result?); every call must compute its output",
            )
        if self.calls <= self.checked_call:
            raise RuntimeError(
                f"the timers made {self.calls} calls; call {self.checked_call} checks"
            )
        mismatch = check_trial_outputs(
            expected, self.checked_output, tolerances, reference, self.checked_inputs, self.device
        )
        if mismatch is not None:
            raise CandidateFailure(
                STAGE,
                f"a timed call on fresh inputs returned a wrong output (a cached result?): "
                f"{mismatch.message}",
                mismatch,
            )
