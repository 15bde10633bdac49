# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: the element count of the trial shape (2x64) is baked into the launch; right at
that shape, wrong at any other the task offers (the generalization trial)."""

import torch
import triton
import triton.language as tl
from torch import nn

N_ELEMENTS = 128


@triton.jit
def swish_kernel(x_ptr, out_ptr, beta, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, x * tl.sigmoid(beta * x))


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        swish_kernel[(1,)](x, out, self.beta, BLOCK=N_ELEMENTS)
        return out
