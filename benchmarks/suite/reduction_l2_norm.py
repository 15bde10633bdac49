"""L2 norm of each row: sqrt(sum(x * x)) over the last dim."""

from __future__ import annotations

import torch
from torch import nn

FAMILY = "reduction"


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(x, ord=2, dim=-1)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(8192, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128)]


def get_init_inputs() -> list[object]:
    return []
