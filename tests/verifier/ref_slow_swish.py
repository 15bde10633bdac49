"""Reference: swish that also sleeps 0.3 s, so even an interpreted kernel looks >10x faster
(exercises the re-verification of suspicious speedups on the CPU)."""

import time

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(0.3)
        return x * torch.sigmoid(self.beta * x)


def get_inputs():
    return [torch.randn(4, 64)]


def get_init_inputs():
    return [1.5]
