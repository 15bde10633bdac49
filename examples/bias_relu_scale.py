"""A broadcast epilogue: y = relu(x + bias) * scale, bias of shape (dim,)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + bias) * self.scale


rows, dim = 8192, 4096


def get_inputs():
    return [torch.randn(rows, dim), torch.randn(dim)]


def get_small_inputs():
    return [torch.randn(24, 96), torch.randn(96)]


def get_init_inputs():
    return [0.5]
