"""Compiling a candidate's Triton kernels before its first timed or checked call.

Triton compiles a kernel at its first launch. ``compile_kernels`` runs the candidate's
``forward`` once with every ``JITFunction.run`` turned into ``run(..., warmup=True)``:
each kernel is compiled for the very arguments the real call will pass (so the same
specialisation) and stored in Triton's on-disk cache, but nothing is launched. The model
and its inputs live on the meta device (shapes, strides and dtypes, no memory): building
them, the forward's own allocations and fills, and the kernels' arguments touch no GPU,
so a timing that runs meanwhile on the same device is not disturbed (the earlier form
built the model on the GPU and copied the reference's weights in: docs/verifier.md,
"Limits" under "Several jobs on one device").

This gives compilation its own line in the time breakdown, and it is the unit that runs
beside another job: the job holds the device gate ``free`` meanwhile (it launches
nothing), so another worker of the same device may verify or time while this one compiles
into its own private cache (``verifier/device_gate.py``). On CPU (the interpreter) there
is nothing to compile.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import torch

from verifier.frameworks import seed_frameworks


def shaped_inputs(task: ModuleType, seed: int, device: str, small: bool) -> list[Any] | None:
    """Uninitialised tensors on ``device`` shaped like the task's inputs; None if unknowable."""
    fn = getattr(task, "get_small_inputs", None) if small else None
    fn = fn or task.get_inputs
    torch.manual_seed(seed)
    seed_frameworks(seed)
    random.seed(seed)
    try:
        with torch.device("meta"):
            values = list(fn())
    except Exception:  # a task that reads its data while making it cannot run on meta
        return None
    shaped = []
    for value in values:
        if isinstance(value, torch.Tensor):
            if value.device.type != "meta":
                return None  # the task pins a device: shapes alone are not enough to trust
            value = torch.empty_strided(
                value.shape, value.stride(), dtype=value.dtype, device=device
            )
        shaped.append(value)
    return shaped


@contextmanager
def _compile_without_launching() -> Iterator[list[int]]:
    from triton.runtime.jit import JITFunction

    original = JITFunction.__dict__["run"]
    compiled = [0]

    def run(kernel: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["warmup"] = True
        compiled[0] += 1
        return original(kernel, *args, **kwargs)

    JITFunction.run = run  # type: ignore[method-assign]
    try:
        yield compiled
    finally:
        JITFunction.run = original  # type: ignore[method-assign]


def compile_kernels(
    make_candidate: Callable[[str], Any],
    task: ModuleType,
    seed: int,
    device: str,
    small: bool,
) -> int:
    """Compiles the kernels ``forward`` launches; returns how many launches were compiled.

    Best effort: anything that goes wrong here (a forward that reads its garbage inputs, a
    compile error) is left for the real call, which reports it at its proper stage.
    """
    if not device.startswith("cuda"):
        return 0
    inputs = shaped_inputs(task, seed, "meta", small)
    if inputs is None:
        return 0
    with _compile_without_launching() as compiled:
        try:
            model = make_candidate("meta")
            with torch.no_grad():
                model(*inputs)
        except Exception:
            pass
    return compiled[0]
