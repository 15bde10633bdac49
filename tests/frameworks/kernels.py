"""Candidate kernels and small reference tasks for the NumPy and MindSpore tests."""

from __future__ import annotations

SOFTPLUS_KERNEL = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softplus_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    z = beta * tl.load(x_ptr + offs, mask=mask)
    y = (tl.maximum(z, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(z)))) / beta
    tl.store(out_ptr + offs, y, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        softplus_kernel[(triton.cdiv(n, 1024),)](x, out, n, self.beta, BLOCK=1024)
        return out
"""

# y = x * w (w a per-column weight the reference holds): passes only with the weight shared
SCALE_KERNEL = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, w_ptr, out_ptr, n, cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    w = tl.load(w_ptr + offs % cols, mask=mask)
    tl.store(out_ptr + offs, x * w, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, cols):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cols))

    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        scale_kernel[(triton.cdiv(n, 256),)](x, self.weight, out, n, x.shape[-1], BLOCK=256)
        return out
"""

NUMPY_SCALE = """
import numpy as np


class Model:
    def __init__(self, cols):
        self.weight = np.random.standard_normal(cols).astype(np.float32)

    def forward(self, x):
        return x * self.weight


def get_inputs():
    return [np.random.standard_normal((8, 32)).astype(np.float32)]


def get_init_inputs():
    return [32]
"""

MINDSPORE_SCALE = """
import mindspore as ms
import numpy as np
from mindspore import nn, ops


class Model(nn.Cell):
    def __init__(self, cols):
        super().__init__()
        self.weight = ms.Parameter(ops.randn(cols), name="weight")

    def construct(self, x):
        return x * self.weight


def get_inputs():
    return [ops.randn(8, 32)]


def get_init_inputs():
    return [32]
"""
