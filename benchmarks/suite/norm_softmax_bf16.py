"""Softmax over the last dim in bfloat16."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "norm"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192, dtype=torch.bfloat16) * 4]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128, dtype=torch.bfloat16) * 4]


def get_init_inputs() -> list[object]:
    return []
