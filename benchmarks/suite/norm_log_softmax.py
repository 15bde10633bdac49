"""Log-softmax over the last dim."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "norm"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(x, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192) * 4]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128) * 4]


def get_init_inputs() -> list[object]:
    return []
