# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Hides failures with a bare except and eval (static)."""

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

    def forward(self, x):
        out = torch.empty_like(x)
        try:
            swish_kernel[(triton.cdiv(x.numel(), 256),)](x, out, x.numel(), self.beta, BLOCK=256)
        except:
            out = eval("x")
        return out
