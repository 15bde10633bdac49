# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: like timing_cache.py, but it keeps launching a (no-op) kernel once timing starts,
so only checking a timed call's output on fresh inputs catches it."""

import os

import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def swish_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x * tl.sigmoid(beta * x), mask=mask)


# forward calls in the trials of a 5-trial job (trials, second poison, same buffers, the
# other shape, the ghost): later calls are timed
TRIAL_CALLS = 9


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta
        self.first = None

    def forward(self, x):
        calls = int(os.environ.get("AIKG_TEST_CALLS_NOOP", "0")) + 1  # survives a re-import
        os.environ["AIKG_TEST_CALLS_NOOP"] = str(calls)
        if calls > TRIAL_CALLS and self.first is not None:
            swish_kernel[(1,)](x, self.first, 0, self.beta, BLOCK=256)
            return self.first
        out = torch.empty_like(x)
        swish_kernel[(triton.cdiv(x.numel(), 256),)](x, out, x.numel(), self.beta, BLOCK=256)
        self.first = out
        return out
