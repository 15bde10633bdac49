"""SELU: scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.selu(x)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(64, 512, 1024)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(4, 16, 32)]


def get_init_inputs() -> list[object]:
    return []
