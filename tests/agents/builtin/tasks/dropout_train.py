"""Dropout applied whatever the module's mode: random numbers a kernel cannot reproduce."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self, p: float = 0.25) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(torch.relu(x), self.p, training=True)


def get_inputs():
    return [torch.randn(4, 33)]


def get_init_inputs():
    return [0.25]
