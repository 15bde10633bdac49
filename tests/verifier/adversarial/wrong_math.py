# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""An honest but wrong kernel (sigmoid without the multiply): a plain mismatch."""

import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def bad_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.sigmoid(beta * tl.load(x_ptr + offs, mask=mask)), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        bad_kernel[(triton.cdiv(x.numel(), 256),)](x, out, x.numel(), self.beta, BLOCK=256)
        return out
