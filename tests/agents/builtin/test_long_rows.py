"""Rows too long for registers go through the looped kernel; long rows whose length is not
a multiple of 4 start off 16-byte boundaries (no vector loads) and take wider steps with
more warps. Which kernel launches with which block is read at full size on meta tensors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import (
    LOOPED,
    check_code,
    full_size_launches,
    render_with,
    task,
)

L2_NORM = "x / torch.norm(x, p=2, dim=1, keepdim=True)"


@pytest.mark.parametrize(
    ("rows", "length", "step", "warps"),
    [(32768, 65535, 8192, 16), (8192, 100000, 1024, 4), (2048, 33333, 8192, 16)],
)
def test_long_misaligned_rows_take_wider_steps(
    rows: int, length: int, step: int, warps: int, tmp_path: Path
) -> None:
    source = task(L2_NORM, inputs=f"torch.randn({rows}, {length})")
    launches = full_size_launches(source, tmp_path)
    kernel, grid, options = launches[-1]
    assert (kernel, grid) == ("op_looped_kernel", (rows,))
    assert options == {"BLOCK_M": 1, "BLOCK_R": step, "num_warps": warps}


def test_wide_steps_over_a_misaligned_row_match_reference(tmp_path: Path) -> None:
    """8193 elements: one 8192-element step and a one-element tail, through every pass."""
    source = task(L2_NORM, inputs="torch.randn(2, 8193)")
    code = render_with(source, LOOPED)
    assert "if R % 4 and R > 8192:" in code
    check_code(source, code, tmp_path)
