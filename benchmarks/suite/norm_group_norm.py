"""Group norm on an NCHW activation with a per-channel weight and bias."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "norm"


class Model(nn.Module):
    def __init__(self, groups: int, channels: int, eps: float) -> None:
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.randn(channels))
        self.bias = nn.Parameter(torch.randn(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, self.groups, self.weight, self.bias, self.eps)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 128, 64, 64)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 8, 8, 8)]


def get_init_inputs() -> list[object]:
    return [8, 128, 1e-5]


def get_small_init_inputs() -> list[object]:
    return [4, 8, 1e-5]
