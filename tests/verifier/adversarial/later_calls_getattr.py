# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: a real kernel on the first call (the one the op recorder used to watch), then
torch does the multiply through getattr(torch, ...), which the AST rules did not see."""

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


@triton.jit
def sigmoid_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.sigmoid(beta * tl.load(x_ptr + offs, mask=mask)), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        out = torch.empty_like(x)
        grid = (triton.cdiv(x.numel(), 256),)
        if self.calls == 1:
            swish_kernel[grid](x, out, x.numel(), self.beta, BLOCK=256)
            return out
        sigmoid_kernel[grid](x, out, x.numel(), self.beta, BLOCK=256)
        return getattr(torch, "mul")(x, out)
