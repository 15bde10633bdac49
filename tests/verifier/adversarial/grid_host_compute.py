# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: the answer is computed with NumPy on raw pointers inside the grid function, which
Triton calls inside the launch (where the recorder used to pause, and which the ghost run
used to skip); the kernel itself does nothing."""

import numpy as np
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def noop_kernel(out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(out_ptr + offs, mask=offs < n), mask=offs < n)


_exp = np.exp


class _Raw:
    def __init__(self, t):
        self.__array_interface__ = {
            "data": (t.data_ptr(), False),
            "shape": tuple(t.shape),
            "typestr": "<f4",
            "version": 3,
        }


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        beta = self.beta

        def grid(meta):
            xs = np.asarray(_Raw(x))
            np.copyto(np.asarray(_Raw(out)), xs / (1.0 + _exp(-beta * xs)))
            return (1,)

        noop_kernel[grid](out, 0, BLOCK=16)
        return out
