# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: hard-codes the output for the inputs of seed 0 and copies it out."""

import torch
import triton
import triton.language as tl
from torch import nn


torch.manual_seed(0)
_X = torch.randn(4, 64)
_OUT = _X * torch.sigmoid(1.5 * _X)


@triton.jit
def copy_kernel(src_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        src = _OUT.to(x.device)
        copy_kernel[(triton.cdiv(x.numel(), 256),)](src, out, x.numel(), BLOCK=256)
        return out
