"""Swish: x * sigmoid(beta * x), beta from get_init_inputs (the examples/ task)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


def get_inputs():
    return [torch.randn(16, 16384)]


def get_small_inputs():
    return [torch.randn(8, 100)]


def get_init_inputs():
    return [1.5]
