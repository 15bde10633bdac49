"""Residual add with a scale in bfloat16: (x + residual) * scale."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "pointwise"


class Model(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return (x + residual) * self.scale


def get_inputs() -> list[torch.Tensor]:
    return [
        torch.randn(8192, 8192, dtype=torch.bfloat16),
        torch.randn(8192, 8192, dtype=torch.bfloat16),
    ]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64, dtype=torch.bfloat16), torch.randn(32, 64, dtype=torch.bfloat16)]


def get_init_inputs() -> list[float]:
    return [0.7071]
