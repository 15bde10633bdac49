"""Residual add with a scale: (x + residual) * scale."""

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
    return [torch.randn(4096, 8192), torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64), torch.randn(32, 64)]


def get_init_inputs() -> list[float]:
    return [0.7071]
