"""Batched matmul in float16: bmm(a, b)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "matmul"


class Model(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.bmm(a, b)


def flops(inputs: list[torch.Tensor], init_inputs: list[object]) -> float:
    a, b = inputs
    return 2.0 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]


def get_inputs() -> list[torch.Tensor]:
    return [
        torch.randn(16, 2048, 2048, dtype=torch.float16),
        torch.randn(16, 2048, 2048, dtype=torch.float16),
    ]


def get_small_inputs() -> list[torch.Tensor]:
    return [
        torch.randn(2, 32, 32, dtype=torch.float16),
        torch.randn(2, 32, 32, dtype=torch.float16),
    ]


def get_init_inputs() -> list[object]:
    return []
