"""LLM replies used by the scripted-server tests: a correct and a wrong swish kernel."""

from __future__ import annotations

SWISH_KERNEL = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def swish_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask).to(tl.float32)
    y = x * tl.sigmoid(beta * x)
    tl.store(out_ptr + offs, y.to(out_ptr.dtype.element_ty), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        swish_kernel[(triton.cdiv(n, 1024),)](x, out, n, self.beta, BLOCK=1024)
        return out
"""

WRONG_KERNEL = SWISH_KERNEL.replace("x * tl.sigmoid(beta * x)", "x * tl.sigmoid(x)")

DESIGN = "One pointwise kernel: load x, y = x * sigmoid(beta * x), store; one pass, BLOCK 1024."


def fenced(code: str, lang: str = "python") -> str:
    return f"Here is the kernel.\n\n```{lang}\n{code.strip()}\n```\n\nIt fuses everything."
