"""View ops on inputs as index arithmetic on their loads (no copy kernel), triangular
masks and diagonals as index maps; views the agent cannot fold are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import check, task


@pytest.mark.parametrize(
    ("expr", "inputs"),
    [
        ("x[1] + x[2]", "torch.randn(4, 33)"),
        ("x[:, 1:5] + 1", "torch.randn(4, 33)"),
        ("x[:, -3:] + x.narrow(1, 2, 3) + x[:, ::2][:, :3]", "torch.randn(4, 33)"),
        ("x[1][-3:] * 2 + x[-1][:3]", "torch.randn(4, 33)"),
        ("x.chunk(3, 1)[1] * 2", "torch.randn(4, 6)"),
        ("x.split([2, 4], 1)[1] + 1", "torch.randn(4, 6)"),
        ("x[:, :16].sum(1)", "torch.randn(4, 33)"),
        # R = (x.shape[1] - 1) * (x.shape[2] - 2): each size a factor of its own
        ("x[:, 1:, 2:].sum(dim=(1, 2))", "torch.randn(3, 5, 6)"),
    ],
)
def test_select_slice_and_narrow_fold_into_the_load(expr: str, inputs: str, tmp_path: Path) -> None:
    code = check(task(expr, inputs=inputs), tmp_path)
    assert "aten.slice" not in code and "copy" not in code.split("class ModelNew")[0]


def test_reshapes_that_split_or_merge_dims_are_index_arithmetic(tmp_path: Path) -> None:
    split = check(task("x.view(4, 3, 11).sum(2) * 2"), tmp_path)
    assert "(i1 * n2 + i2) * x_s1" in split and split.count("@triton.jit") <= 4
    merged = check(task("torch.flatten(x, 1) + 1", inputs="torch.randn(2, 3, 4)"), tmp_path)
    assert merged.count("@triton.jit") == 1 and "i1 % size_" in merged
    check(task("x.reshape(-1) * 3", inputs="torch.randn(3, 5)"), tmp_path)
    check(task("x.unflatten(1, (3, 11)).amax(2)"), tmp_path)
    # a permute, the copy torch makes for it, then a reshape: still one read of x
    transposed = task(
        "x.transpose(1, 2).contiguous().view(2, -1) + 1", inputs="torch.randn(2, 3, 4)"
    )
    assert check(transposed, tmp_path).count("@triton.jit") == 1


@pytest.mark.parametrize(
    "expr",
    ["torch.tril(x)", "torch.triu(x, 1) * 2", "torch.tril(x, -1).sum(2)"],
)
def test_tril_and_triu_are_masks(expr: str, tmp_path: Path) -> None:
    code = check(task(expr, inputs="torch.randn(2, 5, 6)"), tmp_path)
    assert "tl.where(i2 - i1" in code


@pytest.mark.parametrize(
    ("expr", "inputs"),
    [
        ("torch.diag(x) + 1", "torch.randn(5, 5)"),
        ("torch.diagonal(x, 1) * 2", "torch.randn(5, 6)"),
        ("torch.diagonal(x, -2, 1, 2) * 2", "torch.randn(3, 5, 6)"),
        ("torch.diag_embed(x) * 2", "torch.randn(3, 5)"),
        ("torch.diag(x[0]) + 1", "torch.randn(3, 5)"),
    ],
)
def test_diagonals_are_index_maps(expr: str, inputs: str, tmp_path: Path) -> None:
    check(task(expr, inputs=inputs), tmp_path)


@pytest.mark.parametrize(
    ("expr", "inputs"),
    [
        ("(x + 1).view(4, 3, 11).sum(2)", "torch.randn(4, 33)"),
        ("torch.softmax(x, 1)[:, :3]", "torch.randn(4, 33)"),
        ("torch.tanh(x).transpose(1, 2).contiguous().view(2, -1)", "torch.randn(2, 3, 4)"),
    ],
)
def test_a_view_of_a_computed_value_reads_it_from_a_copy_stage(
    expr: str, inputs: str, tmp_path: Path
) -> None:
    code = check(task(expr, inputs=inputs), tmp_path)
    assert "in 2 stages" in code and "_buf for a later stage" in code


def test_views_of_two_computed_values_take_two_copy_stages(tmp_path: Path) -> None:
    code = check(task("torch.relu(x).view(2, 2, 33).sum(2).view(4) * 2"), tmp_path)
    assert "in 3 stages" in code and "Reads sum_1_buf from an earlier stage." in code


def test_a_cat_of_computed_values_reads_them_from_a_copy_stage(tmp_path: Path) -> None:
    code = check(task("torch.cat([x + 1, torch.sigmoid(x)], 1) * 2"), tmp_path)
    assert "in 2 stages" in code


def test_cat_reads_each_piece_at_its_shifted_index(tmp_path: Path) -> None:
    two = task(
        "torch.cat([x, y], 1) * 2", args="x, y", inputs="torch.randn(4, 3), torch.randn(4, 5)"
    )
    assert check(two, tmp_path).count("@triton.jit") == 1
    three = task(
        "torch.cat([x, y, x], 0) + 1", args="x, y", inputs="torch.randn(2, 3), torch.randn(4, 3)"
    )
    check(three, tmp_path)


def test_exclusive_scan_written_with_cat_runs_as_a_copy_stage_and_a_scan(tmp_path: Path) -> None:
    zeros = "torch.zeros_like(x.select(1, 0).unsqueeze(1))"
    exclusive = f"torch.cumsum(torch.cat(({zeros}, x), dim=1)[:, :-1], dim=1)"
    code = check(task(exclusive, inputs="torch.randn(4, 6)"), tmp_path)
    assert "in 2 stages" in code and "cumsum" in code
    reverse = "torch.cumsum(x.flip(1), 1).flip(1)"
    check(task(reverse, inputs="torch.randn(4, 6)"), tmp_path)
