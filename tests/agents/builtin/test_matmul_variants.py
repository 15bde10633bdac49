"""Matmuls around views (KernelBench level 1, 10-18): 3-D and 4-D tensors times a matrix,
einsum, broadcast batches, transposed, diagonal and triangular forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import check, task

VARIANTS = {
    "tensor3d_times_matrix": dict(
        expr="torch.matmul(x, y)", inputs="torch.randn(2, 5, 12), torch.randn(12, 7)", args="x, y"
    ),
    "tensor4d_einsum": dict(
        expr='torch.einsum("bijl,lk->bijk", x, y)',
        inputs="torch.randn(2, 3, 4, 12), torch.randn(12, 7)",
        args="x, y",
    ),
    "broadcast_batch": dict(
        expr="torch.matmul(x, y)",
        inputs="torch.randn(2, 3, 5, 12), torch.randn(2, 1, 12, 7)",
        args="x, y",
    ),
    "transposed_both": dict(
        expr="torch.matmul(x.T, y.T)",
        inputs="torch.randn(12, 5), torch.randn(7, 12)",
        args="x, y",
    ),
    "diagonal_times_matrix": dict(
        expr="torch.diag(x) @ y", inputs="torch.randn(6), torch.randn(6, 7)", args="x, y"
    ),
    "upper_triangular": dict(
        expr="torch.triu(torch.matmul(x, y))",
        inputs="torch.triu(torch.randn(9, 9)), torch.triu(torch.randn(9, 9))",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_matmul_variant_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**VARIANTS[name]), tmp_path, name)


def test_leading_dims_fold_into_rows_on_the_host(tmp_path: Path) -> None:
    code = check(task(**VARIANTS["tensor3d_times_matrix"]), tmp_path)
    assert "x_view_1 = x.reshape(x.shape[0]*x.shape[1], x.shape[2])" in code
    assert "return out.reshape(x.shape[0], x.shape[1], y.shape[1])" in code
