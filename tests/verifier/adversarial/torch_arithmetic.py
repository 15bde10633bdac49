# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: the kernel computes sigmoid(beta*x) and torch does the multiply (`x * s`), which
the AST cannot tell from integer arithmetic: caught by the op recorder while running."""

import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def sigmoid_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.sigmoid(beta * tl.load(x_ptr + offs, mask=mask)), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        s = torch.empty_like(x)
        sigmoid_kernel[(triton.cdiv(x.numel(), 256),)](x, s, x.numel(), self.beta, BLOCK=256)
        return x * s
