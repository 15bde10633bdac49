# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: relaxes the process-wide float32 matmul precision when imported, so the reference
runs with less precision than it asked for (on a GPU: TF32 matmuls that match a TF32
kernel). Against ref_precision_probe.py the relaxation shows as a doubled output."""

import torch
import triton
import triton.language as tl
from torch import nn

torch.set_float32_matmul_precision("high")


@triton.jit
def double_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, 2.0 * tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        double_kernel[(triton.cdiv(x.numel(), 256),)](x, out, x.numel(), BLOCK=256)
        return out
