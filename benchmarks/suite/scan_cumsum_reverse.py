"""Reverse cumulative sum along dim 1 (suffix sums): flip, cumsum, flip."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "scan"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flip(torch.cumsum(torch.flip(x, dims=[1]), dim=1), dims=[1])


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(64, 4096, 128)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 64, 8)]


def get_init_inputs() -> list[object]:
    return []
