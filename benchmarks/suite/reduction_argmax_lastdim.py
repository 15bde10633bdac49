"""Argmax over the last dim (int64 indices out)."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.argmax(x, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128)]


def get_init_inputs() -> list[object]:
    return []
