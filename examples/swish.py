"""Swish (SiLU with a slope): y = x * sigmoid(beta * x)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


batch_size, dim = 4096, 4096


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_small_inputs():
    return [torch.randn(16, 256)]


def get_init_inputs():
    return [1.5]
