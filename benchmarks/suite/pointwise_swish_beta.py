"""Swish with a fixed beta: x * sigmoid(beta * x)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "pointwise"


class Model(nn.Module):
    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64)]


def get_init_inputs() -> list[float]:
    return [1.702]
