"""Mean squared error between a prediction and a target (scalar out)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "loss"


class Model(nn.Module):
    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(prediction, target)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192), torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64), torch.randn(32, 64)]


def get_init_inputs() -> list[object]:
    return []
