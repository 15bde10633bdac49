# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: reaches gc through a torch module that imported it (passes static checks) and
copies out the newest other live tensor of the right shape: the reference's output when the
reference ran first. Caught because the candidate also runs before the reference."""

import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def copy_kernel(src_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


_collector = torch.cuda.graphs.gc


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        found = x
        for obj in _collector.get_objects():
            if type(obj) is torch.Tensor and obj.shape == x.shape and obj is not x:
                found = obj
        out = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 256),)](found, out, x.numel(), BLOCK=256)
        return out
