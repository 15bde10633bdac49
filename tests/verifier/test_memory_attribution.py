"""Whose running out of memory is: the task file's only in the task's own first steps.

On the H200, KernelBench's 63_conv_standard_2D ran out of memory in the verifier's float64
second look and was reported as "the task file fails on its own", which stopped the task.
Here a real CPU worker runs under a memory cap (``cpu_memory_headroom_bytes``, the config's
``verifier.memory_headroom_gib``) where the reference's own run fits (a 256 MB float32
intermediate) and its float64 second look (512 MB) does not; at a smaller cap the
reference's own run does not fit, and that one is the task file's.
"""

from __future__ import annotations

import pytest

from verifier import Verifier, VerifyJob
from verifier.reference_memory import job_steps, memory_step, out_of_memory_in

N = 8192  # the reference sums an N x N outer product: 256 MB in float32, 512 MB in float64

REFERENCE = f"""
import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x, y):
        return (x[:, None] * y[None, :]).sum(1)


def get_inputs():
    return [torch.randn({N}), torch.randn({N})]


def get_init_inputs():
    return []
"""

# off by one everywhere: the mismatch sends the check to the float64 second look
CANDIDATE = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_sum_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    i = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + i, mask=i < n, other=0.0)
    y = tl.load(y_ptr + i, mask=i < n, other=0.0)
    tl.store(out_ptr + i, x * tl.sum(y) + 1.0, mask=i < n)


class ModelNew(nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        row_sum_kernel[(1,)](x, y, out, x.shape[0], BLOCK=triton.next_power_of_2(x.shape[0]))
        return out
"""


async def _verify_under_cap(cap_gib: float) -> tuple[bool, bool, str]:
    async with Verifier(mode="oneshot", cpu_memory_headroom_bytes=int(cap_gib * 2**30)) as v:
        result = await v.verify(VerifyJob(REFERENCE, CANDIDATE, device="cpu", trials=1))
    return result.passed, result.reference_error, result.message


async def test_the_float64_second_look_running_out_is_the_verifiers_not_the_tasks() -> None:
    passed, reference_error, message = await _verify_under_cap(0.45)
    assert not passed and not reference_error, message
    assert message.startswith("the verifier ran out of memory in its own work"), message
    assert "(the float64 second look) on cpu" in message
    assert "asking 0.50 GiB while this worker held" in message  # the float64 intermediate
    assert "raise verifier.memory_headroom_gib" in message and "aikg bug" in message


async def test_the_references_own_run_running_out_is_the_tasks() -> None:
    passed, reference_error, message = await _verify_under_cap(0.2)
    assert not passed and reference_error, message
    assert message.startswith("the reference's own model, inputs or run do not fit"), message
    assert "you tried to allocate 268435456 bytes" in message  # the float32 intermediate


def _step_of(key: str) -> tuple[str, bool]:
    with pytest.raises(MemoryError) as caught, memory_step("the reference's run", key):
        raise MemoryError
    step = caught.value.aikg_memory_step  # type: ignore[attr-defined]
    return step.name, step.task_own


def test_a_task_step_is_the_tasks_only_until_it_has_fit_once_in_the_job() -> None:
    with job_steps():
        assert _step_of("run") == ("the reference's run", True)
        with memory_step("the reference's run", "run"):
            pass  # it fit
        assert _step_of("run") == ("the reference's run, which fit earlier in this job", False)
        assert _step_of("other shapes")[1]
    with job_steps():
        assert _step_of("run")[1]  # a new job starts afresh


def test_the_innermost_out_of_memory_error_of_a_chain_is_found() -> None:
    inner = MemoryError("out of memory")
    try:
        try:
            raise inner
        except MemoryError as exc:
            raise RuntimeError("the reference failed: out of memory") from exc
    except RuntimeError as wrapper:
        assert out_of_memory_in(wrapper) is inner
    try:
        try:
            raise inner
        except MemoryError:
            raise ValueError("handling it went wrong") from None
    except ValueError as suppressed:
        assert out_of_memory_in(suppressed) is None
