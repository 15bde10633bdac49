"""Cross entropy of logits against integer class targets, mean reduction."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "loss"


class Model(nn.Module):
    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192) * 3, torch.randint(0, 8192, (8192,))]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(32, 64) * 3, torch.randint(0, 64, (32,))]


def get_init_inputs() -> list[object]:
    return []
