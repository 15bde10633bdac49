"""Mean over the last dim, keeping it as size 1."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mean(x, dim=-1, keepdim=True)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128)]


def get_init_inputs() -> list[object]:
    return []
