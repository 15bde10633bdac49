"""A forward that builds a vector constant on the input's device: its values cannot be
read while tracing on the meta device, so the builtin agent refuses it by name."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.tensor([1.0, 2.0, 3.0], device=x.device)


def get_inputs():
    return [torch.randn(4, 3)]


def get_init_inputs():
    return []
