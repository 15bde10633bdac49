# ruff: noqa  (deliberately bad code: an adversarial candidate)
"""Wrong layout: the right values in a column-major output (strides (1, rows) where the
reference's output is row-major); code that views the result as the reference's breaks."""

import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def swish_kernel(x_ptr, out_ptr, rows, cols, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < rows * cols
    x = tl.load(x_ptr + offs, mask=mask)
    transposed = (offs % cols) * rows + offs // cols
    tl.store(out_ptr + transposed, x * tl.sigmoid(beta * x), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        rows, cols = x.shape
        out = torch.empty((cols, rows), dtype=x.dtype, device=x.device)
        grid = (triton.cdiv(x.numel(), 256),)
        swish_kernel[grid](x.contiguous(), out, rows, cols, self.beta, BLOCK=256)
        return out.t()
