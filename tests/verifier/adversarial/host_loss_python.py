# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: the loss is computed in Python from float(element) reads (.item() under another
name) plus a no-op kernel; the recorder sees the host reads."""

import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def noop_kernel(out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(out_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, prediction, target):
        pairs = zip(prediction.reshape(-1), target.reshape(-1))
        total = sum((float(p) - float(t)) ** 2 for p, t in pairs)
        out = torch.full((), total / prediction.numel(), device=prediction.device)
        noop_kernel[(1,)](out, 0, BLOCK=16)
        return out
