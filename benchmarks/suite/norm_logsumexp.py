"""Logsumexp over the last dim, with large inputs that punish a naive exp."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "norm"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(x, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 4096) * 40]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128) * 40]


def get_init_inputs() -> list[object]:
    return []
