"""Square matmul in float16: a @ b."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "matmul"


class Model(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b


def flops(inputs: list[torch.Tensor], init_inputs: list[object]) -> float:
    a, b = inputs
    return 2.0 * a.shape[0] * a.shape[1] * b.shape[1]


def get_inputs() -> list[torch.Tensor]:
    return [
        torch.randn(4096, 4096, dtype=torch.float16),
        torch.randn(4096, 4096, dtype=torch.float16),
    ]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(64, 32, dtype=torch.float16), torch.randn(32, 48, dtype=torch.float16)]


def get_init_inputs() -> list[object]:
    return []
