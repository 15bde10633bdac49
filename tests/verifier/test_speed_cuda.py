"""Verification speed on a CUDA device (skipped where torch sees no GPU): inputs drawn on
the GPU, kernels compiled ahead without a launch, and the GPU busy fraction."""

from __future__ import annotations

from types import ModuleType

import pytest
import torch

from tests.support.script_report import script_report
from verifier import Verifier, VerifyJob
from verifier.trials import make_inputs

from .conftest import HERE, source

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICE = "cuda:0"


def _task(get_inputs: object) -> ModuleType:
    module = ModuleType("task")
    module.get_inputs = get_inputs  # type: ignore[attr-defined]
    return module


def test_inputs_are_drawn_on_the_gpu_and_pinned_ones_copied_there() -> None:
    drawn = make_inputs(_task(lambda: [torch.rand(64, 32)]), 1, DEVICE, False, "torch")
    pinned = make_inputs(
        _task(lambda: [torch.rand(64, 32, device="cpu")]), 1, DEVICE, False, "torch"
    )
    for inputs in (drawn, pinned):
        assert all(v.device.type == "cuda" for v in inputs.candidate + inputs.pristine)


# Run in a process of its own: this folder's conftest puts the test process in the interpreter.
COMPILE_AHEAD = """
import json, sys, tempfile
from pathlib import Path
import torch
from verifier.compile_ahead import compile_kernels
from verifier.loading import build_model, load_module

here = Path(sys.argv[1])
tmp = Path(tempfile.mkdtemp())
task = load_module((here / "ref_swish.py").read_text(), "reference", tmp)

def make_candidate(on="cuda:0"):
    module = load_module((here / "good" / "swish.py").read_text(), "candidate", tmp)
    return build_model(module.ModelNew, task, 0, on)

torch.cuda.synchronize()
with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
    compiled = compile_kernels(make_candidate, task, 0, "cuda:0", False)
    torch.cuda.synchronize()
names = [e.name for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
print(json.dumps({"compiled": compiled, "kernels": names}))
"""


def test_compile_ahead_compiles_the_kernels_and_launches_none() -> None:
    report = script_report(COMPILE_AHEAD, str(HERE), env={"TRITON_INTERPRET": None})
    assert report["compiled"] >= 1
    assert report["kernels"] == []  # no kernel, fill or copy: a timing beside it is undisturbed


async def test_a_gpu_job_reports_compile_time_and_a_busy_fraction() -> None:
    job = VerifyJob(
        source("ref_swish.py") + "\n# speed test\n",
        source("good/swish.py"),
        device=DEVICE,
        task_type="profile",
    )
    async with Verifier(mode="warm") as verifier:
        result = await verifier.verify(job)
    assert result.passed, result.message
    b = result.breakdown
    assert b is not None and b.gpu_busy_fraction is not None
    assert 0.0 < b.gpu_busy_fraction <= 1.0
    assert b.compile_s > 0 and b.timing_s > 0 and b.inputs_s > 0
