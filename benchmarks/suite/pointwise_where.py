"""Select between two tensors with a data-dependent mask: where(x > y, x * y, x - y)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "pointwise"


class Model(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.where(x > y, x * y, x - y)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192), torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64), torch.randn(32, 64)]


def get_init_inputs() -> list[object]:
    return []
