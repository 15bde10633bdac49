"""Hardswish: x * relu6(x + 3) / 6, inputs spread over all three pieces."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardswish(x)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64, 128, 128) * 4]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 4, 16, 16) * 4]


def get_init_inputs() -> list[object]:
    return []
