"""Softplus with beta and threshold; inputs wide enough to cross the linear threshold."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def __init__(self, beta: float, threshold: float) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(x, beta=self.beta, threshold=self.threshold)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192) * 4]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64) * 4]


def get_init_inputs() -> list[float]:
    return [2.0, 10.0]
