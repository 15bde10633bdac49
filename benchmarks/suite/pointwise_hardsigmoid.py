"""Hardsigmoid: relu6(x + 3) / 6, inputs spread over all three pieces."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "pointwise"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardsigmoid(x)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192) * 4]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64) * 4]


def get_init_inputs() -> list[object]:
    return []
