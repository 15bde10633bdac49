"""GELU with the tanh approximation in float16."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(16384, 8192, dtype=torch.float16)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64, dtype=torch.float16)]


def get_init_inputs() -> list[object]:
    return []
