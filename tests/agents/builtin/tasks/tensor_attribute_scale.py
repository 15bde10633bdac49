"""A module holding a plain tensor attribute (not a parameter, not a buffer): once made
torch's tracer stop with "Please convert all Tensors to FakeTensors first"."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.scale = torch.rand(features) + 0.5
        self.register_buffer("shift", torch.randn(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x * self.scale + self.shift)


def get_inputs():
    return [torch.randn(4, 33)]


def get_init_inputs():
    return [33]
