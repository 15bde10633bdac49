"""Matmuls around views (KernelBench level 1, 10-18): 3-D and 4-D tensors times a matrix,
einsum, broadcast batches, transposed, diagonal and triangular forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import (
    check,
    check_code,
    full_size_launches,
    render_with,
    task,
)

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
        inputs="torch.triu(torch.randn(40, 40)), torch.triu(torch.randn(40, 40))",
        args="x, y",
    ),
    "lower_triangular_offset": dict(
        expr="torch.tril(torch.matmul(x, y), diagonal=-3)",
        inputs="torch.randn(40, 24), torch.randn(24, 40)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_matmul_variant_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**VARIANTS[name]), tmp_path, name)


def test_tiles_a_triangular_mask_zeroes_skip_their_products(tmp_path: Path) -> None:
    small_tiles = {**SPLIT_K, "SPLIT_K_PROGRAMS": 0}  # 16 x 16 tiles: 3 x 3 of them
    for name, skipped in (("upper_triangular", "< 0"), ("lower_triangular_offset", "> -3")):
        source = task(**VARIANTS[name])
        code = render_with(source, small_tiles)
        assert f"- 1 - pid_m * BLOCK_M {skipped}:" in code or f"BLOCK_M - 1) {skipped}:" in code
        check_code(source, code, tmp_path)
    masked_then_shifted = task(**{**VARIANTS["upper_triangular"], "expr": "torch.triu(x @ y) + 1"})
    assert "k_end = k_start" not in render_with(masked_then_shifted, small_tiles)


def test_leading_dims_fold_into_rows_on_the_host(tmp_path: Path) -> None:
    code = check(task(**VARIANTS["tensor3d_times_matrix"]), tmp_path)
    assert "x_view_1 = x.reshape(x.shape[0]*x.shape[1], x.shape[2])" in code
    assert "return out.reshape(x.shape[0], x.shape[1], y.shape[1])" in code


# small tiles, and a split of K whenever K has 8 steps to spare
SPLIT_K = {"BLOCK_M": 16, "BLOCK_N": 16, "BLOCK_K": 16, "GROUP_M": 2, "num_warps": 4}
SPLIT_K |= {"num_stages": 2, "SPLIT_K_PROGRAMS": 1_000_000}
SPLIT_CASES = {
    "split_k_bias_relu": dict(
        expr="torch.relu(torch.matmul(x, y) + self.b)",
        inputs="torch.randn(20, 512), torch.randn(512, 24)",
        args="x, y",
        body="self.b = nn.Parameter(torch.randn(24))",
    ),
    "split_k_batched": dict(
        expr="torch.bmm(x, y) * 0.5",
        inputs="torch.randn(2, 20, 384), torch.randn(2, 384, 18)",
        args="x, y",
    ),
    "split_k_matrix_vector": dict(
        expr="torch.matmul(x, y)",
        inputs="torch.randn(20, 2048), torch.randn(2048, 3)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(SPLIT_CASES))
def test_split_k_matches_reference(name: str, tmp_path: Path) -> None:
    source = task(**SPLIT_CASES[name])
    code = render_with(source, SPLIT_K)
    launches = full_size_launches(source, tmp_path, code)
    assert [kernel for kernel, _, _ in launches] == ["op_kernel", "op_combine_kernel"]
    assert launches[0][1][2] > 1  # the K chunks
    check_code(source, code, tmp_path)


def test_few_tiles_split_k_and_few_columns_take_their_kernels(tmp_path: Path) -> None:
    """On meta tensors with the default configuration: KernelBench 6 (256 x 256, K = 524288)
    splits K, 4 (2048 x 1048576 times one column) is a row reduction, and four columns
    take the narrow kernel, split too; each fills the GPU."""
    large_k = task(
        "torch.matmul(x, y)", inputs="torch.rand(256, 524288), torch.rand(524288, 256)", args="x, y"
    )
    (kernel, grid, keywords), combine = full_size_launches(large_k, tmp_path)
    assert kernel == "op_kernel" and combine[0] == "op_combine_kernel"
    assert grid[0] * grid[2] >= 132
    assert keywords["NARROW"] is False and keywords["SPLIT"] is True
    inputs = "torch.rand(2048, 1048576), torch.rand(1048576, {})"
    one_column = task("torch.matmul(x, y)", inputs=inputs.format(1), args="x, y")
    assert full_size_launches(one_column, tmp_path) == [
        ("op_looped_kernel", (2048,), {"BLOCK_M": 1, "BLOCK_R": 1024, "num_warps": 4})
    ]
    four_columns = task("torch.matmul(x, y)", inputs=inputs.format(4), args="x, y")
    (kernel, grid, keywords), _ = full_size_launches(four_columns, tmp_path)
    assert keywords["NARROW"] is True and keywords["BLOCK_N"] == 4
    assert grid[0] * grid[2] >= 132


VECTORS = {
    "matrix_vector_bias": dict(
        expr="torch.matmul(x, y) + 1", inputs="torch.randn(20, 300), torch.randn(300)", args="x, y"
    ),
    "vector_matrix": dict(
        expr="torch.matmul(y, x)", inputs="torch.randn(12, 20), torch.randn(12)", args="x, y"
    ),
    "one_column_transposed": dict(
        expr="torch.relu(x.t() @ y)",
        inputs="torch.randn(300, 20), torch.randn(300, 1)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_matrix_vector_products_match_reference(name: str, tmp_path: Path) -> None:
    code = check(task(**VECTORS[name]), tmp_path, name)
    assert ("tl.dot" in code) == (name == "vector_matrix")  # mv: a row reduction
