"""Reference: swish at a small trial shape, with other small shapes offered as variants."""

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


def get_inputs():
    return [torch.randn(2, 64)]


def get_input_variants():
    return [[torch.randn(4, 64)], [torch.randn(3, 50)]]


def get_init_inputs():
    return [1.5]
