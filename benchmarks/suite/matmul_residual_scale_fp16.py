"""Matmul with a residual add and a scale in float16: (a @ b + residual) * scale."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "matmul"


class Model(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, a: torch.Tensor, b: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return (a @ b + residual) * self.scale


def flops(inputs: list[torch.Tensor], init_inputs: list[object]) -> float:
    a, b, _ = inputs
    return 2.0 * a.shape[0] * a.shape[1] * b.shape[1]


def get_inputs() -> list[torch.Tensor]:
    return [
        torch.randn(4096, 4096, dtype=torch.float16),
        torch.randn(4096, 4096, dtype=torch.float16),
        torch.randn(4096, 4096, dtype=torch.float16),
    ]


def get_small_inputs() -> list[torch.Tensor]:
    return [
        torch.randn(64, 32, dtype=torch.float16),
        torch.randn(32, 48, dtype=torch.float16),
        torch.randn(64, 48, dtype=torch.float16),
    ]


def get_init_inputs() -> list[float]:
    return [0.5]
