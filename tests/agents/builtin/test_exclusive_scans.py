"""Exclusive cumsums written as zeros cat in front of a cumsum run as one scan kernel."""

from __future__ import annotations

from pathlib import Path

from agents.builtin.exclusive_scans import with_exclusive_scans_fused
from agents.builtin.lowering import lower
from agents.builtin.reference import trace_reference
from agents.builtin.render import render_module
from tests.agents.builtin.builtin_harness import LOOPED, check, check_code, task

# KernelBench level 1's 92_cumsum_exclusive, along dim 1
EXCLUSIVE = (
    "torch.cat((torch.zeros_like(x.select(1, 0).unsqueeze(1)),"
    " torch.cumsum(x.narrow(dim=1, start=0, length=x.size(1) - 1), dim=1)), dim=1)"
)


def test_exclusive_cumsum_is_one_scan_kernel(tmp_path: Path) -> None:
    source = task(EXCLUSIVE, inputs="torch.randn(4, 6)")
    code = check(source, tmp_path)
    assert "stages" not in code and "Fused into op_kernel: zeros_like -> cat -> cumsum" in code
    # rows walked in several blocks carry the sum across the block after the shift
    traced = with_exclusive_scans_fused(trace_reference(source, "torch"))
    looped = render_module("op", traced, lower(traced), LOOPED, interpreter=True)
    assert "op_looped_kernel[(n_rows,)]" in looped
    check_code(source, looped, tmp_path)


def test_exclusive_cumsum_over_the_first_dim_with_two_leading_zeros(tmp_path: Path) -> None:
    expr = (
        "torch.cat((torch.zeros_like(x[:2]),"
        " torch.cumsum(x.narrow(0, 0, x.size(0) - 2), dim=0)), dim=0)"
    )
    code = check(task(expr, inputs="torch.randn(7, 3, 5)"), tmp_path)
    assert "stages" not in code


def test_zeros_after_a_cumsum_stay_a_copy(tmp_path: Path) -> None:
    """Trailing zeros are no exclusive scan: the cat copies the scan's buffer behind them."""
    expr = "torch.cat((torch.cumsum(x, dim=1), torch.zeros_like(x[:, :1])), dim=1)"
    code = check(task(expr, inputs="torch.randn(4, 6)"), tmp_path)
    assert "in 2 stages" in code
