"""Layer norm over the last dim with a weight and a bias."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "norm"


class Model(nn.Module):
    def __init__(self, hidden: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(hidden))
        self.bias = nn.Parameter(torch.randn(hidden))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 64)]


def get_init_inputs() -> list[object]:
    return [4096, 1e-5]


def get_small_init_inputs() -> list[object]:
    return [64, 1e-5]
