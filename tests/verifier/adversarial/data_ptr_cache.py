# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: computes once per input pointer and returns the cached result afterwards."""

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


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta
        self.cache = {}

    def forward(self, x):
        key = x.data_ptr()
        if key not in self.cache:
            out = torch.empty_like(x)
            grid = (triton.cdiv(x.numel(), 256),)
            swish_kernel[grid](x, out, x.numel(), self.beta, BLOCK=256)
            self.cache[key] = out
        return self.cache[key]
