"""Matmul, linear and batched matmul with fused epilogues (tl.dot runs in the interpreter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import check, task

AB = "torch.randn(20, 40), torch.randn(40, 24)"
BATCHED = "torch.randn(3, 20, 40), torch.randn(3, 40, 24)"
LINEAR = "self.lin = nn.Linear(40, 24)"

MATMULS = {
    "mm": dict(expr="torch.matmul(x, y)", inputs=AB, args="x, y"),
    "mm_transposed_operand": dict(
        expr="x @ y.t()", inputs="torch.randn(20, 40), torch.randn(24, 40)", args="x, y"
    ),
    "mm_bias_relu_scale": dict(
        expr="torch.relu(torch.matmul(x, y) + self.b) * 2",
        inputs=AB,
        args="x, y",
        body="self.b = nn.Parameter(torch.randn(24))",
    ),
    "linear": dict(expr="self.lin(x)", body=LINEAR, inputs="torch.randn(20, 40)"),
    "linear_no_bias_gelu": dict(
        expr="F.gelu(self.lin(x)) + 1",
        body="self.lin = nn.Linear(40, 24, bias=False)",
        inputs="torch.randn(20, 40)",
    ),
    "linear_residual_clamp": dict(
        expr="torch.clamp(self.lin(x) * 0.5 + y, -1, 1)",
        body=LINEAR,
        inputs="torch.randn(20, 40), torch.randn(20, 24)",
        args="x, y",
    ),
    "bmm": dict(expr="torch.bmm(x, y)", inputs=BATCHED, args="x, y"),
    "batched_matmul_sigmoid": dict(
        expr="torch.sigmoid(torch.matmul(x, y))", inputs=BATCHED, args="x, y"
    ),
    "mm_fp16": dict(
        expr="torch.matmul(x, y)",
        inputs="torch.randn(20, 40, dtype=torch.float16), torch.randn(40, 24, dtype=torch.float16)",
        args="x, y",
    ),
    "mm_bf16_relu": dict(
        expr="torch.relu(torch.matmul(x, y))",
        inputs="torch.randn(20, 40, dtype=torch.bfloat16), "
        "torch.randn(40, 24, dtype=torch.bfloat16)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(MATMULS))
def test_matmul_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**MATMULS[name]), tmp_path, name)


def test_linear_module_is_built_by_the_reference_init(tmp_path: Path) -> None:
    code = check(task("self.lin(x)", body=LINEAR, inputs="torch.randn(20, 40)"), tmp_path)
    assert "self.lin = nn.Linear(40, 24)" in code
    assert "tl.dot(a, b, acc" in code
