# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Bug: the kernel reads its never-initialised output buffer and treats NaN as "empty".
Right under NaN poison, wrong when fresh memory holds anything else (the second run)."""

import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def swish_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    previous = tl.load(out_ptr + offs, mask=mask)
    result = x * tl.sigmoid(beta * x)
    tl.store(out_ptr + offs, tl.where(previous != previous, result, previous), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        swish_kernel[(triton.cdiv(x.numel(), 256),)](x, out, x.numel(), self.beta, BLOCK=256)
        return out
