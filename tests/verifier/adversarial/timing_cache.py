# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: correct in every trial, then once the calls outnumber the trials (timing) it returns
the tensor it computed last, launching nothing: "0.029 ms against 355 ms"."""

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
        calls = int(os.environ.get("AIKG_TEST_CALLS_CACHE", "0")) + 1  # survives a re-import
        os.environ["AIKG_TEST_CALLS_CACHE"] = str(calls)
        if calls > TRIAL_CALLS and self.first is not None:
            return self.first
        out = torch.empty_like(x)
        swish_kernel[(triton.cdiv(x.numel(), 256),)](x, out, x.numel(), self.beta, BLOCK=256)
        self.first = out
        return out
