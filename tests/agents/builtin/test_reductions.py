"""Reductions along any dims, softmax family, norms and losses, with fused pointwise work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import (
    LOOPED,
    SPLIT,
    check,
    check_code,
    render_with,
    task,
)

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

X2 = "torch.randn(4, 33)"
X3 = "torch.randn(3, 6, 7)"
XY = "torch.randn(4, 9), torch.randn(4, 9)"

REDUCTIONS = {
    "sum_last": dict(expr="torch.sum(x, dim=1)"),
    "sum_keepdim_fused": dict(expr="torch.sum(x * 2, dim=1, keepdim=True) + 1"),
    "sum_first_of_3d": dict(expr="torch.sum(x, dim=0)", inputs=X3),
    "sum_middle_of_3d": dict(expr="torch.sum(torch.relu(x), dim=1)", inputs=X3),
    "sum_all": dict(expr="x.sum()"),
    "mean_last": dict(expr="torch.mean(x, dim=-1)", inputs=X3),
    "mean_two_dims": dict(expr="torch.mean(x, dim=(1, 2))", inputs=X3),
    "max_values": dict(expr="torch.max(x, dim=1)[0]"),
    "max_values_and_indices": dict(expr="torch.max(x, dim=1)"),
    "min_first_dim": dict(expr="torch.min(x, dim=0).values", inputs=X3),
    "amax": dict(expr="torch.amax(x, dim=1)"),
    "prod": dict(expr="torch.prod(x, dim=1)", inputs="torch.rand(4, 10) + 0.5"),
    "argmax": dict(expr="torch.argmax(x, dim=1)", inputs=X3),
    "argmin": dict(expr="torch.argmin(x, dim=0)", inputs=X3),
    "argmax_flat": dict(expr="torch.argmax(x)"),
    "l1_norm": dict(expr="torch.norm(x, p=1, dim=1)"),
    "l2_norm": dict(expr="torch.norm(x, dim=1)"),
    "frobenius_norm_divide": dict(expr="x / torch.norm(x, p='fro')"),
    "inf_norm": dict(expr="torch.linalg.vector_norm(x, ord=float('inf'), dim=1)"),
    "normalize": dict(expr="F.normalize(x, dim=1)"),
    "var": dict(expr="torch.var(x, dim=1)"),
    "std_keepdim": dict(expr="torch.std(x, dim=1, keepdim=True)"),
    "row_bias_after": dict(
        expr="torch.sum(x, dim=1, keepdim=True) + y",
        inputs="torch.randn(4, 9), torch.randn(4, 1)",
        args="x, y",
    ),
    "sum_fp16": dict(expr="torch.sum(x, dim=1)", inputs="torch.randn(4, 33, dtype=torch.float16)"),
    "mean_bf16": dict(expr="x.mean(dim=0)", inputs="torch.randn(5, 8, dtype=torch.bfloat16)"),
}

NORMALIZATIONS = {
    "softmax": dict(expr="torch.softmax(x, dim=1)"),
    "softmax_first_dim": dict(expr="torch.softmax(x, dim=0)", inputs=X3),
    "log_softmax": dict(expr="torch.log_softmax(x, dim=-1)"),
    "logsumexp": dict(expr="torch.logsumexp(x, dim=1)"),
    "logsumexp_keepdim": dict(expr="torch.logsumexp(x, dim=0, keepdim=True)", inputs=X3),
    "softmax_bf16": dict(
        expr="torch.softmax(x, dim=1)", inputs="torch.randn(4, 33, dtype=torch.bfloat16)"
    ),
    "layer_norm": dict(
        expr="self.ln(x)", init="n", body="self.ln = nn.LayerNorm(n)", init_values="33"
    ),
    "layer_norm_two_dims": dict(
        expr="self.ln(x)", body="self.ln = nn.LayerNorm((6, 7))", inputs=X3
    ),
    "rms_norm_written_out": dict(
        expr="x * torch.rsqrt(torch.mean(x ** 2, dim=-1, keepdim=True) + 1e-5)"
    ),
    "rms_norm_functional": dict(expr="F.rms_norm(x, (33,), eps=1e-6)"),
    "rms_norm_channels": dict(
        expr="x / torch.sqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-5)",
        inputs="torch.randn(2, 8, 3, 3)",
    ),
    "mse_loss": dict(expr="F.mse_loss(x, y)", inputs=XY, args="x, y"),
    "huber_loss": dict(expr="F.huber_loss(x, y, delta=0.5)", inputs=XY, args="x, y"),
    "smooth_l1_loss": dict(expr="F.smooth_l1_loss(x, y)", inputs=XY, args="x, y"),
    "kl_div": dict(
        expr="F.kl_div(torch.log(x), y, reduction='batchmean')",
        inputs="torch.rand(4, 9).softmax(-1), torch.rand(4, 9).softmax(-1)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**REDUCTIONS[name]), tmp_path, name)


@pytest.mark.parametrize("name", sorted(NORMALIZATIONS))
def test_normalization_or_loss_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**NORMALIZATIONS[name]), tmp_path, name)


def test_rows_longer_than_the_persistent_limit_take_the_looped_kernel(tmp_path: Path) -> None:
    code = check(task("torch.softmax(x, dim=1) * 3", inputs="torch.randn(2, 9000)"), tmp_path)
    assert "PERSISTENT_R = 8192" in code and "if R <= PERSISTENT_R:" in code
    assert "for r0 in range(0, R, BLOCK_R):" in code


LOOPED_CASES = {**REDUCTIONS, **NORMALIZATIONS}


@pytest.mark.parametrize("name", sorted(LOOPED_CASES))
def test_looped_kernel_matches_reference(name: str, tmp_path: Path) -> None:
    """The same references through the kernel that walks each row in several blocks."""
    source = task(**LOOPED_CASES[name])
    check_code(source, render_with(source, LOOPED), tmp_path)


SPLIT_CASES = [
    "sum_last",
    "sum_all",
    "mean_two_dims",
    "amax",
    "l2_norm",
    "inf_norm",
    "row_bias_after",
    "sum_fp16",
    "mse_loss",
    "huber_loss",
    "kl_div",
]


@pytest.mark.parametrize("name", SPLIT_CASES)
def test_split_kernels_match_reference(name: str, tmp_path: Path) -> None:
    """Single-pass reductions with each row cut into chunks, then the partials combined."""
    source = task(**LOOPED_CASES[name])
    code = render_with(source, SPLIT)
    assert "op_partial_kernel[(n_rows, SPLIT)]" in code
    check_code(source, code, tmp_path)
