"""RMS norm over the last dim with a weight: x * rsqrt(mean(x^2) + eps) * weight."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "norm"


class Model(nn.Module):
    def __init__(self, hidden: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(hidden))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rms = torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + self.eps)
        return x * rms * self.weight


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 64)]


def get_init_inputs() -> list[object]:
    return [4096, 1e-6]


def get_small_init_inputs() -> list[object]:
    return [64, 1e-6]
