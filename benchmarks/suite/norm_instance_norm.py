"""Instance norm on an NCHW activation with a per-channel weight and bias."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "norm"


class Model(nn.Module):
    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels))
        self.bias = nn.Parameter(torch.randn(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64, 128, 128)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 4, 8, 8)]


def get_init_inputs() -> list[object]:
    return [64, 1e-5]


def get_small_init_inputs() -> list[object]:
    return [4, 1e-5]
