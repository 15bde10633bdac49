"""Mish: x * tanh(softplus(x))."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.mish(x)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128, 128, 128) * 3]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 4, 16, 16) * 3]


def get_init_inputs() -> list[object]:
    return []
