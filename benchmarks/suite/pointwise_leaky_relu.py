"""Leaky ReLU with a configurable negative slope."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def __init__(self, negative_slope: float) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, negative_slope=self.negative_slope)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64)]


def get_init_inputs() -> list[float]:
    return [0.2]
