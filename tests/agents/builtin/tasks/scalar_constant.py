"""A forward that builds a 0-dim constant tensor: once a KeyError on `_tensor_constant0`
in the lowering (torch's tracer lifts it into a graph attribute)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * torch.tensor(3.0) - torch.tensor(1)


def get_inputs():
    return [torch.randn(4, 33)]


def get_init_inputs():
    return []
