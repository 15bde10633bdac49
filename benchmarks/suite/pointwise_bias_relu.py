"""Per-channel bias broadcast over an NCHW activation, then ReLU."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "pointwise"


class Model(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.randn(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.bias)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 256, 64, 64)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 8, 8, 8)]


def get_init_inputs() -> list[int]:
    return [256]


def get_small_init_inputs() -> list[int]:
    return [8]
