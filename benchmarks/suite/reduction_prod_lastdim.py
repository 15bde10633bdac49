"""Product over a short last dim of values near 1 (so it neither overflows nor vanishes)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.prod(x, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [1.0 + 0.05 * torch.randn(262144, 64)]


def get_small_inputs() -> list[torch.Tensor]:
    return [1.0 + 0.05 * torch.randn(32, 64)]


def get_init_inputs() -> list[object]:
    return []
