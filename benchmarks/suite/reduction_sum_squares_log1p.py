"""Pointwise work on both sides of a reduction: log1p(sum(x * x, dim=-1) * scale)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log1p(torch.sum(x * x, dim=-1) * self.scale)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128)]


def get_init_inputs() -> list[float]:
    return [0.01]
