"""How much memory a job takes for its inputs at once: a 17 GB KernelBench input
(45_Average_Pooling_2D) ran a 140 GB H200 out of memory when the first trial's three
copies stayed alive beside the rerun's three, and checks widened or copied whole inputs
(the cache's float64 fingerprint, the NaN-aware comparison of inputs). Measured as the
peak resident memory of a fresh process running one job on the CPU, over the input's
size: 7.5 inputs' worth before those fixes, 6.3 after (the interpreter's own copies
and what the allocator keeps count too)."""

from __future__ import annotations

from tests.support.script_report import script_report

ROWS, COLS = 800_000, 64  # a 205 MB float32 input; the output is one column
INPUT_BYTES = ROWS * COLS * 4

REFERENCE = f"""
import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x):
        return x[:, :1] * 2


def get_inputs():
    return [torch.randn({ROWS}, {COLS})]


def get_init_inputs():
    return []
"""

CANDIDATE = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def first_column_kernel(x_ptr, out_ptr, n_rows, stride, BLOCK: tl.constexpr):
    rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = rows < n_rows
    tl.store(out_ptr + rows, tl.load(x_ptr + rows * stride, mask=mask) * 2, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty(x.shape[0], 1, device=x.device, dtype=x.dtype)
        n_rows = x.shape[0]
        grid = (triton.cdiv(n_rows, 1 << 20),)
        first_column_kernel[grid](x, out, n_rows, x.stride(0), BLOCK=1 << 20)
        return out
"""

JOB = """
import json, resource, sys
import torch, triton
from verifier.child import verify_in_process
from verifier.result import VerifyJob

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
result = verify_in_process(VerifyJob(sys.argv[1], sys.argv[2], device="cpu", trials=1))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"passed": result.passed, "message": result.message, "extra": peak - before}))
"""


def test_a_job_peaks_under_seven_inputs_worth_of_memory() -> None:
    report = script_report(JOB, REFERENCE, CANDIDATE, env={"TRITON_INTERPRET": "1"})
    assert report["passed"], report["message"]
    copies = report["extra"] / INPUT_BYTES
    assert copies < 6.9, f"the job's peak took {copies:.1f} inputs' worth of memory"
