# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: computes the answer with numpy into the output buffer, and launches a kernel
that does nothing. Passes static checks; the recorder sees np.asarray read tensor data."""

import numpy as np

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


_exp = np.exp


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        xs = np.asarray(x)
        np.copyto(np.asarray(out), xs / (1.0 + _exp(-self.beta * xs)))
        swish_kernel[(1,)](x, out, 0, self.beta, BLOCK=256)
        return out
