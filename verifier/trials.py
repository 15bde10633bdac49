"""Correctness trials: fresh inputs per trial, reference vs candidate, cheat detection."""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import torch

from verifier.breakdown import phase
from verifier.compare import (
    ElementSlack,
    Mismatch,
    Slack,
    compare_outputs,
    flat_chunks,
    flatten_outputs,
    rounding_gap,
)
from verifier.frameworks import ConversionError, seed_frameworks, to_reference, to_torch
from verifier.guards import ALTERNATE, NAN, KernelLaunches, TorchOpRecorder, poisoned_allocations
from verifier.layout import layout_mismatch
from verifier.precision import pinned_precision
from verifier.reference_cache import cached_reference
from verifier.reference_memory import is_out_of_memory, memory_step
from verifier.shapes import InputMaker, generalization_makers, trial_inputs_maker


class CandidateFailure(Exception):
    """The candidate failed at a stage; the message says what to fix."""

    def __init__(self, stage: str, message: str, mismatch: Mismatch | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.mismatch = mismatch


class ReferenceFailure(Exception):
    """The reference itself failed: the task file, not the candidate, is at fault."""


@dataclass
class TrialInputs:
    reference: list[Any]
    candidate: list[Any]
    pristine: list[Any]
    seed: int | None = None  # what the reference cache knows these inputs by (None: unknown)


def trial_seed(base: int, index: int) -> int:
    return (base * 1_000_003 + 7919 * (index + 1) + 104729) % 2**31


def _nonzero(value: Any) -> Any:
    is_float = isinstance(value, torch.Tensor) and value.is_floating_point()
    if is_float and value.numel() and not bool(value.any()):
        return torch.randn_like(value)
    is_float_array = isinstance(value, np.ndarray) and value.dtype.kind == "f"
    if is_float_array and value.size and not value.any():
        return np.random.standard_normal(value.shape).astype(value.dtype)
    return value


def _clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def make_inputs(
    module: ModuleType,
    seed: int,
    device: str,
    small: bool,
    framework: str,
    maker: InputMaker | None = None,
) -> TrialInputs:
    """Fresh inputs from the task file under ``seed`` (never all zeros).

    ``maker`` makes another shape than the trials' (see ``shapes.py``).

    For a NumPy or MindSpore reference the task's values (arrays or MindSpore tensors)
    become torch tensors on ``device`` for the candidate, and host copies of that same data
    in the reference's framework for the reference.
    """
    with phase("inputs"):
        return _make_inputs(module, seed, device, small, framework, maker)


def _on_device(fn: Callable[[], Any], device: str) -> list[Any]:
    """``fn()`` with ``device`` as torch's default device, so tensors are made where they are
    used (a 6 GB input is not drawn on the host and copied over). A task that pins its
    tensors elsewhere, or cannot run that way, gets its values moved (or made) on the host
    and copied: the values differ from a host draw, the seeding does not. Running out of
    memory is not retried."""
    state = torch.random.get_rng_state()
    try:
        with torch.device(device):
            values = list(fn())
    except Exception as exc:
        if is_out_of_memory(exc):  # the host would not hold it either: no second try
            raise
        torch.random.set_rng_state(state)
        values = list(fn())
    return [v.to(device) if isinstance(v, torch.Tensor) else v for v in values]


def _make_inputs(
    module: ModuleType,
    seed: int,
    device: str,
    small: bool,
    framework: str,
    maker: InputMaker | None,
) -> TrialInputs:
    fn = maker or trial_inputs_maker(module, small)
    torch.manual_seed(seed)
    seed_frameworks(seed)
    random.seed(seed)
    if framework == "torch":
        with memory_step("the task's get_inputs()", task_key=fn):
            values = [_nonzero(v) for v in _on_device(fn, device)]
        with memory_step("copying the inputs"):
            copies = [_clone(v) for v in values], [_clone(v) for v in values]
        return TrialInputs(*copies, values, seed)
    with memory_step("the task's get_inputs()", task_key=fn):
        values = [_nonzero(v) for v in fn()]
    try:
        as_torch = [_nonzero(to_torch(v)) for v in values]
    except ConversionError as exc:
        raise ReferenceFailure(f"get_inputs() returned {exc}") from exc
    on_device = [v.to(device) if isinstance(v, torch.Tensor) else v for v in as_torch]
    reference = [to_reference(v, framework) for v in as_torch]
    return TrialInputs(reference, [_clone(v) for v in on_device], on_device, seed)


def _same(a: Any, b: Any) -> bool:
    if not isinstance(a, torch.Tensor):
        return True
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not a.is_floating_point():
        return bool(torch.equal(a, b))
    pairs = zip(flat_chunks(a), flat_chunks(b), strict=True)
    return all(torch.equal(torch.nan_to_num(x), torch.nan_to_num(y)) for x, y in pairs)


def check_inputs_unchanged(inputs: TrialInputs) -> None:
    for i, (now, before) in enumerate(zip(inputs.candidate, inputs.pristine, strict=True)):
        if not _same(now, before):
            raise CandidateFailure(
                "cheat",
                f"forward modified its input #{i} in place; inputs are read-only, write results "
                "to a new output tensor",
            )


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def output_nbytes(value: Any) -> int:
    return sum(
        t.numel() * t.element_size()
        for t in map(to_torch, flatten_outputs(value))
        if isinstance(t, torch.Tensor)
    )


def run_reference(model: Any, inputs: TrialInputs, device: str, cached: bool = True) -> Any:
    """The reference's output on ``inputs``; with ``cached``, the one the worker kept for
    these inputs' seed if any (``reference_cache.py``). A trial that runs the candidate
    first passes ``cached=False``: its answer must not exist in memory before the candidate
    runs, so it is neither read from nor stored in the cache."""
    seed = inputs.seed if cached else None
    with phase("reference"):
        return cached_reference(
            seed, inputs.pristine, lambda: _reference_output(model, inputs, device)
        )


def _reference_output(model: Any, inputs: TrialInputs, device: str) -> Any:
    shapes = tuple(tuple(getattr(v, "shape", ())) for v in inputs.reference)
    try:
        with memory_step("the reference's run", task_key=("reference", shapes)):
            with torch.no_grad(), pinned_precision():
                out = model(*inputs.reference)
            _sync(device)
    except Exception as exc:
        raise ReferenceFailure(f"the reference task failed on its own inputs: {exc}") from exc
    return out


def run_candidate(
    model: Any,
    inputs: TrialInputs,
    device: str,
    poison_bytes: int,
    record_ops: bool = True,
    ghost: bool = False,
    poison: str = NAN,
) -> tuple[Any, KernelLaunches, list[str]]:
    """One forward of the candidate under poisoned allocations and pinned precision flags;
    returns its output, its kernel launches and the torch ops/host reads it ran outside them."""
    recorder = TorchOpRecorder() if record_ops else contextlib.nullcontext()
    with (
        poisoned_allocations(device, poison_bytes, poison),
        KernelLaunches(ghost=ghost) as launches,
        pinned_precision(),
        torch.no_grad(),
    ):
        with recorder:
            out = model(*inputs.candidate)
        _sync(device)
    return out, launches, (recorder.forbidden if isinstance(recorder, TorchOpRecorder) else [])


def reject_torch_ops(ops: list[str]) -> None:
    """Torch compute or host reads outside any kernel launch: the kernels do not do the work."""
    if ops:
        raise CandidateFailure(
            "static",
            f"forward ran torch op(s) {', '.join(ops[:5])} outside any Triton kernel "
            "(found while running); only allocation, views and kernel launches are allowed, "
            "and tensor data must not be read into the host",
        )


# How far the candidate may stray, beyond the dtype's tolerance, per unit of the
# reference's own rounding error (its gap from its float64 run, element by element)
ROUNDING_SLACK = 2.0


def _widened(value: Any) -> Any:
    """A floating tensor as float64; anything else as it is."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.double()
    return value


# Share of elements whose rounding gap may exceed the floor (the ill-conditioned ones).
GAP_FLOOR_QUANTILE = 0.9


# Outputs with more elements than this take the quantile over an evenly spaced sample of
# about this many: torch's kthvalue refuses a dim of 2**31 or more on CUDA (KernelBench's
# 87_conv_pointwise_2D has 2**31 outputs) and a full sort of billions is slow anyway.
GAP_QUANTILE_SAMPLE = 1 << 24


def rounding_gap_floor(
    expected: torch.Tensor, truth: torch.Tensor, sample: int = GAP_QUANTILE_SAMPLE
) -> float:
    """The ``GAP_FLOOR_QUANTILE`` quantile of the reference's distance from its float64 run,
    over at most about ``sample`` evenly spaced elements."""
    e, t = expected.reshape(-1), truth.reshape(-1)
    if e.numel() > sample:
        step = -(-e.numel() // sample)
        e, t = e[::step], t[::step]
    gap = rounding_gap(e, t, t.device)
    if gap.numel() == 0:
        return 0.0
    k = max(1, int(GAP_FLOOR_QUANTILE * gap.numel()))
    return float(gap.kthvalue(k).values)


def float64_reference(reference: Any, inputs: TrialInputs) -> Any | None:
    """The reference run in float64 on the same data, or None where that cannot be done."""
    if not isinstance(reference, torch.nn.Module):
        return None
    try:
        model = copy.deepcopy(reference).double()
        with torch.no_grad(), pinned_precision():
            return model(*[_widened(v) for v in inputs.reference])
    except Exception as exc:  # a reference that cannot run in float64 keeps the plain comparison
        if is_out_of_memory(exc):  # but a failed check is not a mismatch: the verifier's own
            raise
        return None


def check_outputs(
    expected: Any,
    out: Any,
    tolerances: dict[str, tuple[float, float]],
    reference: Any,
    inputs: TrialInputs,
) -> Mismatch | None:
    """The candidate against the reference; on a value mismatch, against exact arithmetic.

    Long accumulations (a cumsum over 8192 fp32 values) carry rounding error of order
    sqrt(n) ulps of the running sum in the reference itself, so two correct summation
    orders can differ by more than the fp32 tolerance. Then the candidate passes if it is
    within tolerance of the float64 result, widened element by element by
    ``ROUNDING_SLACK`` times the reference's own distance from it there: as accurate as the
    reference, in effect. Per element, so one ill-conditioned element cannot widen the
    tolerance of all the others; each element's gap is floored at the gaps' 90th
    percentile, because a correct reordering's error is a random walk that crosses zero
    where the reference's does not.
    """
    with memory_step("comparing outputs"):
        mismatch = compare_outputs(expected, out, tolerances)
    if mismatch is None or mismatch.max_abs_err is None:
        return mismatch
    with memory_step("the float64 second look"):
        return _second_look(expected, out, tolerances, reference, inputs, mismatch)


def _second_look(
    expected: Any,
    out: Any,
    tolerances: dict[str, tuple[float, float]],
    reference: Any,
    inputs: TrialInputs,
    mismatch: Mismatch,
) -> Mismatch | None:
    """``check_outputs``' look against the float64 run: None if it passes, else ``mismatch``."""
    truth = float64_reference(reference, inputs)
    if truth is None:
        return mismatch
    expected_leaves = [to_torch(v) for v in flatten_outputs(expected)]
    truth_leaves = flatten_outputs(truth)
    if len(truth_leaves) != len(expected_leaves):
        return mismatch
    narrowed: list[Any] = []
    slack: list[Slack] = []
    for e, t in zip(expected_leaves, truth_leaves, strict=True):
        floating = isinstance(e, torch.Tensor) and e.is_floating_point()
        if not (floating and isinstance(t, torch.Tensor) and t.shape == e.shape):
            narrowed.append(e)
            slack.append(0.0)
            continue
        narrowed.append(t.to(e.dtype))
        # each element's gap, computed a chunk at a time inside the comparison
        slack.append(ElementSlack(e, t, rounding_gap_floor(e, t), ROUNDING_SLACK))
    if compare_outputs(narrowed, flatten_outputs(out), tolerances, slack) is None:
        return None
    return mismatch


def check_trial_outputs(
    expected: Any,
    out: Any,
    tolerances: dict[str, tuple[float, float]],
    reference: Any,
    inputs: TrialInputs,
    device: str,
) -> Mismatch | None:
    """Values (``check_outputs``), then layout: strides and device."""
    return check_outputs(expected, out, tolerances, reference, inputs) or layout_mismatch(
        expected, out, device
    )


def _one_trial(
    reference: Any,
    candidate: Any,
    inputs: TrialInputs,
    device: str,
    candidate_first: bool,
    tolerances: dict[str, tuple[float, float]],
) -> tuple[Any, Any, Mismatch | None]:
    """Reference and candidate on the same data; returns (expected, out, mismatch).

    Raises on torch compute outside kernels, on no launch, and on modified inputs.
    """
    if candidate_first:
        out, launches, ops = run_candidate(candidate, inputs, device, 0)
        expected = run_reference(reference, inputs, device, cached=False)
    else:
        expected = run_reference(reference, inputs, device)
        out, launches, ops = run_candidate(candidate, inputs, device, output_nbytes(expected))
    reject_torch_ops(ops)
    if launches.count == 0:
        raise CandidateFailure("cheat", "forward launched no Triton kernel on these inputs")
    check_inputs_unchanged(inputs)
    return expected, out, check_trial_outputs(expected, out, tolerances, reference, inputs, device)


def run_trials(
    job_seed: int,
    trials: int,
    task: ModuleType,
    reference: Any,
    candidate: Any,
    make_ghost: Callable[[], Any],
    device: str,
    small: bool,
    framework: str,
    tolerances: dict[str, tuple[float, float]],
) -> int:
    """Runs the correctness trials, the generalization trials and the ghost run; returns
    the number of trials run or raises ``CandidateFailure``."""
    passed_after_reference = False
    for index in range(trials):
        inputs = make_inputs(task, trial_seed(job_seed, index), device, small, framework)
        candidate_first = index % 2 == 1
        expected, out, mismatch = _one_trial(
            reference, candidate, inputs, device, candidate_first, tolerances
        )
        if mismatch is not None:
            if candidate_first and passed_after_reference:
                raise CandidateFailure(
                    "cheat",
                    "output is right only when the reference ran just before the candidate "
                    f"(it reads the reference's leftovers): {mismatch.message}",
                    mismatch,
                )
            raise CandidateFailure("mismatch", f"trial {index + 1}: {mismatch.message}", mismatch)
        passed_after_reference = passed_after_reference or not candidate_first
        if index == 0:
            _check_other_poison(candidate, inputs, out, expected, device, tolerances)
        del out, expected
        # the rerun reuses only the candidate's input buffers: the trial's other two copies
        # go first (three 17 GB copies alive beside the rerun's three ran a 140 GB H200 out)
        buffers = inputs.candidate if index == 0 else None
        del inputs
        if buffers is not None:
            _rerun_same_buffers(
                job_seed,
                trials,
                task,
                reference,
                candidate,
                buffers,
                device,
                small,
                framework,
                tolerances,
            )
            del buffers
    _generalization_trials(
        job_seed, trials, task, reference, candidate, device, small, framework, tolerances
    )
    _ghost_run(job_seed, trials, task, reference, make_ghost, device, small, framework, tolerances)
    return trials


def _check_other_poison(
    candidate: Any,
    inputs: TrialInputs,
    first: Any,
    expected: Any,
    device: str,
    tolerances: dict[str, tuple[float, float]],
) -> None:
    """The same inputs with other garbage in fresh memory must give the same output:
    a kernel that reads memory it never wrote can pass with NaN poison by luck
    (``tl.maximum`` drops NaN, say) and fail on real leftovers."""
    again = TrialInputs(inputs.reference, [_clone(v) for v in inputs.pristine], inputs.pristine)
    out, _, ops = run_candidate(candidate, again, device, output_nbytes(expected), poison=ALTERNATE)
    reject_torch_ops(ops)
    mismatch = compare_outputs(first, out, tolerances)
    if mismatch is not None:
        raise CandidateFailure(
            "nondeterministic",
            "two runs on the same inputs disagree when fresh memory holds other garbage (the "
            f"kernel reads output or scratch memory it never wrote?): {mismatch.message}",
            mismatch,
        )


def _generalization_trials(
    job_seed: int,
    trials: int,
    task: ModuleType,
    reference: Any,
    candidate: Any,
    device: str,
    small: bool,
    framework: str,
    tolerances: dict[str, tuple[float, float]],
) -> None:
    """One trial at every other shape the task offers: no sizes baked into the kernel."""
    for offset, (label, maker) in enumerate(generalization_makers(task, small)):
        seed = trial_seed(job_seed, trials + 2 + offset)
        inputs = make_inputs(task, seed, device, small, framework, maker)
        _, _, mismatch = _one_trial(reference, candidate, inputs, device, False, tolerances)
        if mismatch is not None:
            shapes = [tuple(v.shape) for v in inputs.candidate if isinstance(v, torch.Tensor)]
            raise CandidateFailure(
                "mismatch",
                f"wrong at another shape the task offers ({label}, inputs {shapes}): "
                f"{mismatch.message}; the kernel must not assume the trials' sizes",
                mismatch,
            )


def _rerun_same_buffers(
    job_seed: int,
    trials: int,
    task: ModuleType,
    reference: Any,
    candidate: Any,
    buffers: list[Any],
    device: str,
    small: bool,
    framework: str,
    tolerances: dict[str, tuple[float, float]],
) -> None:
    """New data in the very same input buffers (``buffers``, the candidate's inputs of the
    first trial): a result cached by pointer goes stale."""
    fresh = make_inputs(task, trial_seed(job_seed, trials + 1), device, small, framework)
    for old, new in zip(buffers, fresh.pristine, strict=True):
        if isinstance(old, torch.Tensor) and isinstance(new, torch.Tensor):
            old.copy_(new.to(old.device))
    same = TrialInputs(fresh.reference, buffers, fresh.pristine, fresh.seed)
    del fresh  # its own candidate copy is not used: free it before the runs
    expected = run_reference(reference, same, device)
    out, _, ops = run_candidate(candidate, same, device, output_nbytes(expected))
    reject_torch_ops(ops)
    check_inputs_unchanged(same)
    mismatch = check_outputs(expected, out, tolerances, reference, same)
    if mismatch is not None:
        raise CandidateFailure(
            "cheat",
            "wrong output when the same input buffers hold new data (results cached by "
            f"pointer or by call?): {mismatch.message}",
            mismatch,
        )


def _looks_unwritten(value: torch.Tensor) -> bool:
    """All zeros (or False) or all NaN: what an untouched zeroed or poisoned buffer holds."""
    if value.numel() == 0:
        return True
    if value.is_floating_point() and bool(torch.isnan(value).all()):
        return True
    return not bool(value.any())


def _is_an_input(value: torch.Tensor, inputs: TrialInputs) -> bool:
    return any(
        isinstance(v, torch.Tensor) and v.shape == value.shape and _same(v, value)
        for v in inputs.candidate
    )


def _ghost_run(
    job_seed: int,
    trials: int,
    task: ModuleType,
    reference: Any,
    make_ghost: Callable[[], Any],
    device: str,
    small: bool,
    framework: str,
    tolerances: dict[str, tuple[float, float]],
) -> None:
    """With every kernel launch a no-op, each output must come out wrong; one still right
    was computed by something else (the host, NumPy, a cache). Excused only where the
    reference's output is what an unwritten buffer holds (all zeros or all NaN) or one of
    the inputs itself."""
    inputs = make_inputs(task, trial_seed(job_seed, trials), device, small, framework)
    expected = run_reference(reference, inputs, device)
    ghost = make_ghost()
    try:
        out, _, _ = run_candidate(
            ghost, inputs, device, output_nbytes(expected), record_ops=False, ghost=True
        )
    except Exception:
        return
    expected_leaves = [to_torch(v) for v in flatten_outputs(expected)]
    out_leaves = flatten_outputs(out)
    if len(out_leaves) != len(expected_leaves):
        return
    for i, (want, got) in enumerate(zip(expected_leaves, out_leaves, strict=True)):
        if not isinstance(want, torch.Tensor) or _looks_unwritten(want):
            continue
        if _is_an_input(want.to(device), inputs):
            continue
        if compare_outputs(want, got, tolerances) is None:
            label = f"output {i}" if len(expected_leaves) > 1 else "the output"
            raise CandidateFailure(
                "cheat",
                f"{label} is still right with every Triton kernel replaced by a no-op: "
                "the kernels are not what computes the result",
            )
