"""Pointwise chains: activations, broadcasting, scalars, type promotion, dtypes, ranks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import check, task

ACTIVATIONS = {
    "relu": "torch.relu(x)",
    "leaky_relu": "F.leaky_relu(x, 0.2)",
    "gelu": "F.gelu(x)",
    "gelu_tanh": "F.gelu(x, approximate='tanh')",
    "silu": "F.silu(x)",
    "mish": "F.mish(x)",
    "elu": "F.elu(x, alpha=0.7)",
    "selu": "F.selu(x)",
    "softplus": "F.softplus(x)",
    "softsign": "F.softsign(x)",
    "hardtanh": "F.hardtanh(x, -0.5, 0.5)",
    "hardsigmoid": "F.hardsigmoid(x)",
    "hardswish": "F.hardswish(x)",
    "sigmoid": "torch.sigmoid(x)",
    "tanh": "torch.tanh(x)",
    "clamp": "torch.clamp(x, -0.3, 0.6)",
    "where": "torch.where(x > 0, x, 0.1 * x)",
    "relu6": "F.relu6(x * 4)",
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(ACTIVATIONS[name]), tmp_path, name)


CHAINS = {
    "broadcast_two_inputs": dict(
        expr="x + y * 2 - 1", inputs="torch.randn(4, 1, 5), torch.randn(3, 1)", args="x, y"
    ),
    "broadcast_parameter": dict(
        expr="torch.tanh(x * self.w) + self.w", body="self.w = nn.Parameter(torch.randn(33))"
    ),
    "rank4": dict(expr="torch.relu(x) ** 2 - x / 3", inputs="torch.randn(2, 3, 4, 5)"),
    "rank1": dict(expr="torch.sigmoid(x) * x", inputs="torch.randn(70)"),
    "int_promoted_to_float": dict(
        expr="x * 0.5 + y", inputs="torch.randint(0, 10, (4, 5)), torch.randn(4, 5)", args="x, y"
    ),
    "transposed_input": dict(expr="x.t() + 1", inputs="torch.randn(3, 5)"),
    "tuple_output": dict(expr="(torch.relu(x), x * 2)"),
    "powers_and_roots": dict(expr="torch.sqrt(torch.abs(x)) + x ** 3 + torch.rsqrt(x * x + 1)"),
    "comparison_output": dict(expr="x > 0.25"),
    "masked_fill": dict(expr="x.masked_fill(x < 0, 0.5) + torch.ones_like(x)"),
    "fp16_chain": dict(
        expr="F.gelu(x) * 2 + torch.exp(-x)", inputs="torch.randn(4, 33, dtype=torch.float16)"
    ),
    "bf16_chain": dict(
        expr="torch.sigmoid(x) + F.silu(x)", inputs="torch.randn(4, 33, dtype=torch.bfloat16)"
    ),
    "fp16_broadcast": dict(
        expr="x * y + 1",
        inputs="torch.randn(3, 8, dtype=torch.float16), torch.randn(8, dtype=torch.float16)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_pointwise_chain_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**CHAINS[name]), tmp_path, name)


def test_init_scalar_becomes_an_attribute_of_model_new(tmp_path: Path) -> None:
    source = task(
        "x * self.scale + self.shift",
        init="scale, shift=0.5",
        body="self.scale = scale\n        self.shift = shift",
        init_values="0.25",
    )
    code = check(source, tmp_path, "scale_shift")
    assert "def __init__(self, scale, shift=0.5):" in code
    assert "self.scale = scale" in code and "self.shift = shift" in code
    assert "self.scale, self.shift" in code  # fed to the kernel, not baked in
