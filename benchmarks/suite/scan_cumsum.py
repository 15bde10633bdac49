"""Cumulative sum along the last dim."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "scan"


class Model(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x, dim=self.dim)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128)]


def get_init_inputs() -> list[int]:
    return [-1]
