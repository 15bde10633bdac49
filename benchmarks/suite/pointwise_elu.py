"""ELU with a configurable alpha."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def __init__(self, alpha: float) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x, alpha=self.alpha)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(64, 32)]


def get_init_inputs() -> list[float]:
    return [1.3]
