"""GELU with the tanh approximation on a 4-d activation."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64, 128, 128)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 4, 16, 16)]


def get_init_inputs() -> list[object]:
    return []
