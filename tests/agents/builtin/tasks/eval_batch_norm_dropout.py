"""Eval-mode statistics and dropout: batch norm's running mean and variance (buffers, set
away from their defaults) and dropout (the identity in eval mode), in one module."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(channels)
        self.bn.running_mean.uniform_(-1.0, 1.0)
        self.bn.running_var.uniform_(0.5, 2.0)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.drop(self.bn(x)))


def get_inputs():
    return [torch.randn(2, 4, 5)]


def get_init_inputs():
    return [4]
