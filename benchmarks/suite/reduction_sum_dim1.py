"""Sum over the middle dim of a 3-d tensor."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x, dim=self.dim)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(64, 4096, 256)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 64, 16)]


def get_init_inputs() -> list[int]:
    return [1]
