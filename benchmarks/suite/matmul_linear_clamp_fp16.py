"""Linear layer (weight and bias) followed by a clamp, in float16."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "matmul"


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int, low: float, high: float) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, dtype=torch.float16)
        self.low = low
        self.high = high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.linear(x), min=self.low, max=self.high)


def flops(inputs: list[torch.Tensor], init_inputs: list[object]) -> float:
    (x,) = inputs
    in_features, out_features = init_inputs[:2]
    return 2.0 * x.shape[0] * in_features * out_features


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192, dtype=torch.float16)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64, dtype=torch.float16)]


def get_init_inputs() -> list[object]:
    return [8192, 4096, -0.5, 0.5]


def get_small_init_inputs() -> list[object]:
    return [64, 48, -0.5, 0.5]
