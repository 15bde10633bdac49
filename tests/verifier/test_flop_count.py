"""torch's FLOP count of a reference, on meta tensors: matmuls in any layout, convolutions,
and none for memory-bound work."""

from __future__ import annotations

import torch
from torch import nn

from verifier.flop_count import counted_flops


class TransposedA(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a.T, b)


class Conv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


class Softmax(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=1)


class NeedsData(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ x if bool(x.sum() > 0) else x


def test_a_transposed_operand_is_counted_as_the_matmul_it_is() -> None:
    a, b = torch.randn(64, 32), torch.randn(64, 16)  # (K, M) and (K, N)
    assert counted_flops(TransposedA(), [a, b]) == 2 * 32 * 16 * 64


def test_a_convolution_is_counted_and_its_weights_stay_where_they_are() -> None:
    model = Conv()
    before = model.conv.weight.detach().clone()
    flops = counted_flops(model, [torch.randn(2, 3, 10, 10)])
    assert flops == 2 * (2 * 8 * 8 * 8) * (3 * 3 * 3)  # outputs x (C_in * taps) x 2
    assert model.conv.weight.device.type == "cpu" and torch.equal(model.conv.weight, before)


def test_memory_bound_work_and_data_dependent_references_have_no_count() -> None:
    assert counted_flops(Softmax(), [torch.randn(4, 8)]) is None
    assert counted_flops(NeedsData(), [torch.randn(4, 4)]) is None
    assert counted_flops(lambda x: x, [torch.randn(2)]) is None
