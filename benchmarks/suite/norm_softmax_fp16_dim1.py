"""Softmax over the middle dim of a 3-d float16 tensor (a strided softmax)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "norm"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 1024, 1024, dtype=torch.float16)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 64, 16, dtype=torch.float16)]


def get_init_inputs() -> list[object]:
    return []
