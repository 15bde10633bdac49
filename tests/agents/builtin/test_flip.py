"""flip lowered as reversed indices on loads and stores: pointwise, around scans, the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.types import Unsupported
from tests.agents.builtin.builtin_harness import (
    LOOPED,
    check,
    check_code,
    generate,
    render_with,
    task,
)

SUITE = Path(__file__).resolve().parents[3] / "benchmarks" / "suite"

CASES = {
    "pointwise": dict(
        expr="x.flip(0) * 2 + y", args="x, y", inputs="torch.randn(5, 7), torch.randn(5, 7)"
    ),
    "pointwise_two_dims_broadcast": dict(
        expr="torch.flip(x, dims=[0, 2]) - y.flip(-1)",
        args="x, y",
        inputs="torch.randn(3, 4, 6), torch.randn(6)",
    ),
    "flip_twice": dict(expr="torch.relu(x.flip(1)).flip(1) + x", inputs="torch.randn(4, 9)"),
    "reverse_cumsum": dict(
        expr="torch.flip(torch.cumsum(torch.flip(x, dims=[1]), dim=1), dims=[1])",
        inputs="torch.randn(2, 33, 5)",
    ),
    "flipped_scan_epilogue": dict(
        expr="torch.cumsum(x, dim=1).flip(1) * 2 + x", inputs="torch.randn(3, 20)"
    ),
    "flip_kept_dim_of_scan": dict(
        expr="torch.cumsum(x.flip(0), dim=1).flip(0)", inputs="torch.randn(3, 20)"
    ),
    "softmax_of_flip": dict(expr="torch.softmax(x.flip(1), dim=1)", inputs="torch.randn(4, 20)"),
    "flipped_softmax_rows": dict(expr="torch.softmax(x, 1).flip(0)", inputs="torch.randn(5, 7)"),
    "flipped_row_sum_epilogue": dict(
        expr="x.sum(1, keepdim=True).flip(0) + y",
        args="x, y",
        inputs="torch.randn(5, 7), torch.randn(5, 1)",
    ),
    "cumsum_tiled_first_dim": dict(
        expr="torch.cumsum(x.flip(0), dim=0)", inputs="torch.randn(5, 6, 7)"
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**CASES[name]), tmp_path, name)


def test_suite_reverse_cumsum(tmp_path: Path) -> None:
    source = (SUITE / "scan_cumsum_reverse.py").read_text()
    code = check(source, tmp_path, "scan_cumsum_reverse")
    assert "- 1 - i1" in code


def test_reverse_cumsum_looped_kernel(tmp_path: Path) -> None:
    source = task(**CASES["reverse_cumsum"])
    check_code(source, render_with(source, LOOPED), tmp_path)


@pytest.mark.parametrize(
    "expr",
    [
        "torch.cumsum(torch.cumsum(x, 1).flip(1), 1)",  # a scan cannot walk backwards
        "torch.cumsum(x, 1).flip(1) + torch.cumsum(x, 1)",  # one value in two orders
    ],
)
def test_a_scan_read_in_both_orders_is_unsupported(expr: str) -> None:
    with pytest.raises(Unsupported, match=r"aten\.flip"):
        generate(task(expr))
