"""Smooth L1 (Huber-like) loss with a beta, mean reduction."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "loss"


class Model(nn.Module):
    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.smooth_l1_loss(prediction, target, beta=self.beta)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192), torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64), torch.randn(32, 64)]


def get_init_inputs() -> list[float]:
    return [0.5]
