"""Jobs on a second GPU, and a job that runs out of device memory only because another job
shares the device (skipped where torch sees no GPU, or only one for the first test)."""

from __future__ import annotations

import asyncio

import pytest
import torch

from verifier import Verifier, VerifyJob
from verifier.child import RERUN_ALONE_NOTE
from verifier.timing import CUDA_MIN_RUNS, CUDA_RUNS

from .conftest import source

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

# Swish whose forward reserves 55% of the device for a moment: one job fits, two side by
# side do not (the caching allocator keeps the block until the job ends).
BIG_SCRATCH_SWISH = """
import time
import torch
from torch import nn

SCRATCH_BYTES = int(torch.cuda.get_device_properties(0).total_memory * 0.55)


class Model(nn.Module):
    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scratch = torch.empty(SCRATCH_BYTES, dtype=torch.uint8, device=x.device)
        time.sleep(0.5)
        del scratch
        return x * torch.sigmoid(self.beta * x)


def get_inputs():
    return [torch.randn(4, 64)]


def get_init_inputs():
    return [1.5]
"""


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
async def test_a_job_on_the_second_gpu_launches_its_kernel_there() -> None:
    job = VerifyJob(source("ref_swish.py"), source("good/swish.py"), device="cuda:1")
    async with Verifier(mode="warm") as verifier:
        result = await verifier.verify(job)
    assert result.passed, result.message


async def test_out_of_memory_beside_another_job_is_run_again_alone() -> None:
    job = VerifyJob(BIG_SCRATCH_SWISH, source("good/swish.py"), device="cuda:0")
    async with Verifier(mode="warm", workers_per_device=2) as verifier:
        results = await asyncio.gather(verifier.verify(job), verifier.verify(job))
    assert all(r.passed for r in results), [r.message for r in results]
    assert any(RERUN_ALONE_NOTE in r.message for r in results)


async def test_a_slow_baseline_is_timed_fewer_times_and_a_fast_kernel_a_hundred() -> None:
    job = VerifyJob(
        source("ref_slow_swish.py"), source("good/swish.py"), device="cuda:0", task_type="profile"
    )
    async with Verifier(mode="warm") as verifier:
        result = await verifier.verify(job)
    assert result.passed, result.message
    timings = result.timings or {}
    assert timings["eager"]["runs"] == CUDA_MIN_RUNS  # 0.3 s a call: the budget's floor
    assert timings["candidate"]["runs"] == CUDA_RUNS
