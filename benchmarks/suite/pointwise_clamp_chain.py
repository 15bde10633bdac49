"""A chain of clamps around a scale and shift: clamp(clamp(x, lo, hi) * 2 - 0.5, -1, 1)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "pointwise"


class Model(nn.Module):
    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low = low
        self.high = high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.clamp(x, min=self.low, max=self.high)
        return torch.clamp(y * 2.0 - 0.5, min=-1.0, max=1.0)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64)]


def get_init_inputs() -> list[float]:
    return [-0.8, 0.6]
