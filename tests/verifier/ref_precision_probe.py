"""Reference whose output shows the float32 matmul precision it ran under: a probe for
precision parity (a candidate must not relax the flags the reference runs with)."""

import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        relaxed = torch.get_float32_matmul_precision() != "highest"
        return x * (2.0 if relaxed else 1.0)


def get_inputs():
    return [torch.randn(4, 64)]


def get_init_inputs():
    return []
