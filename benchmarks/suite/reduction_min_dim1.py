"""Min over the middle dim of a 3-d tensor."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.amin(x, dim=1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 4096, 512)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 64, 16)]


def get_init_inputs() -> list[object]:
    return []
