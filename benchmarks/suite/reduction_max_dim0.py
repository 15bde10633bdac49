"""Max over the leading dim (a strided, column-wise reduction)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.amax(x, dim=0)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(128, 32)]


def get_init_inputs() -> list[object]:
    return []
