# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Cheat: the loss is computed with NumPy on the host, reading the tensors' memory through
__array_interface__ (no torch call the recorder could see), and a no-op kernel is launched.
The ghost run used to skip single-element outputs; now it catches this."""

import numpy as np
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def noop_kernel(out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(out_ptr + offs, mask=offs < n), mask=offs < n)


class _Raw:
    def __init__(self, t):
        shape = tuple(t.shape)
        self.__array_interface__ = {
            "data": (t.data_ptr(), True),
            "shape": shape,
            "typestr": "<f4",
            "version": 3,
        }


class ModelNew(nn.Module):
    def forward(self, prediction, target):
        a = np.asarray(_Raw(prediction))
        b = np.asarray(_Raw(target))
        d = a - b
        loss = float(np.vdot(d, d)) / d.size
        out = torch.full((), loss, dtype=prediction.dtype, device=prediction.device)
        noop_kernel[(1,)](out, 0, BLOCK=16)
        return out
