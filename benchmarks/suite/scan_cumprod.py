"""Cumulative product along the last dim of values near 1 (bounded running products)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "scan"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumprod(x, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [1.0 + 0.01 * torch.randn(4096, 4096)]


def get_small_inputs() -> list[torch.Tensor]:
    return [1.0 + 0.01 * torch.randn(16, 128)]


def get_init_inputs() -> list[object]:
    return []
