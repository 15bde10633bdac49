"""Linear layer (weight and bias) followed by exact GELU, in bfloat16."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "matmul"


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.linear(x))


def flops(inputs: list[torch.Tensor], init_inputs: list[object]) -> float:
    (x,) = inputs
    in_features, out_features = init_inputs
    return 2.0 * x.shape[0] * in_features * out_features


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096, dtype=torch.bfloat16)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64, dtype=torch.bfloat16)]


def get_init_inputs() -> list[int]:
    return [4096, 4096]


def get_small_init_inputs() -> list[int]:
    return [64, 48]
