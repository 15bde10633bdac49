"""Max and average pooling, 1-D to 3-D, with stride, padding, dilation and ceil mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.builtin.provider import plan_design
from agents.types import Unsupported
from tests.agents.builtin.builtin_harness import (
    check,
    check_code,
    first_launch_arguments,
    generate,
    render_with,
    request,
    task,
)

NCL = "torch.randn(2, 3, 20)"
NCHW = "torch.randn(2, 3, 9, 10)"
NCDHW = "torch.randn(1, 2, 7, 8, 9)"
NAN_NCHW = "torch.randn(2, 3, 8, 8).masked_fill(torch.rand(2, 3, 8, 8) < 0.05, float('nan'))"

POOLS = {
    "max1d_padded_dilated": dict(
        expr="F.max_pool1d(x, 4, stride=1, padding=2, dilation=3)", inputs=NCL
    ),
    "max2d_ceil_mode": dict(
        expr="F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)", inputs=NCHW
    ),
    "max2d_nan_propagates": dict(expr="F.max_pool2d(x, 2)", inputs=NAN_NCHW),
    "max2d_unbatched_relu": dict(
        expr="torch.relu(F.max_pool2d(x, (2, 3), stride=(1, 2)))", inputs="torch.randn(3, 7, 9)"
    ),
    "max3d_dilated": dict(expr="F.max_pool3d(x, 3, stride=2, padding=1, dilation=2)", inputs=NCDHW),
    "avg1d_padded": dict(expr="F.avg_pool1d(x, 4, stride=1, padding=2)", inputs=NCL),
    "avg2d_ceil_excluding_pad": dict(
        expr="F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)",
        inputs=NCHW,
    ),
    "avg2d_ceil_including_pad": dict(
        expr="F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)", inputs=NCHW
    ),
    "avg2d_nonoverlapping_scaled": dict(expr="F.avg_pool2d(x, 3) * 2 + 1", inputs=NCHW),
    "avg3d_padded": dict(expr="F.avg_pool3d(x, 3, stride=2, padding=1)", inputs=NCDHW),
    "avg3d_divisor_override": dict(expr="F.avg_pool3d(x, 2, divisor_override=3)", inputs=NCDHW),
}


@pytest.mark.parametrize("name", sorted(POOLS))
def test_pooling_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**POOLS[name]), tmp_path, name)


def test_windows_without_padding_read_with_plain_loads(tmp_path: Path) -> None:
    code = check(task("F.max_pool2d(x, 2)", inputs=NCHW), tmp_path)
    assert "tl.where" not in code and code.count("tl.load(") == 4


def test_row_tiles_cover_blocks_of_the_last_dim_and_several_rows(tmp_path: Path) -> None:
    """Programs of 8 elements: a 21-wide output row takes three blocks of 8, a 3-wide one
    takes tiles of two rows by 4; padded positions are masked loads, never clamped."""
    cases = [
        ("F.avg_pool1d(x, 4, stride=1, padding=2)", NCL, (1, 8)),
        ("F.max_pool1d(x, 3, stride=2, padding=1, dilation=2)", "torch.randn(2, 3, 7)", (2, 4)),
    ]
    for expr, inputs, (rows, cols) in cases:
        source = task(expr, inputs=inputs)
        code = render_with(source, {"BLOCK_SIZE": 8, "num_warps": 1})
        assert "tl.arange(0, BLOCK_COLS)[None, :]" in code and "tl.minimum" not in code
        check_code(source, code, tmp_path)
        launch = first_launch_arguments(code, source, tmp_path, run=False)
        assert (launch["BLOCK_ROWS"], launch["BLOCK_COLS"]) == (rows, cols)


def test_pooling_indices_are_refused_by_name() -> None:
    source = task("F.max_pool2d(x, 2, return_indices=True)[1]", inputs=NCHW)
    with pytest.raises(Unsupported, match=r"aten\.max_pool2d_with_indices \(return_indices"):
        generate(source)


ADAPTIVE = {
    "adaptive_avg2d_uneven": dict(expr="F.adaptive_avg_pool2d(x, (4, 3))", inputs=NCHW),
    "adaptive_avg1d": dict(expr="F.adaptive_avg_pool1d(x, 6) * 2", inputs=NCL),
    "adaptive_avg3d": dict(expr="F.adaptive_avg_pool3d(x, (3, 2, 4))", inputs=NCDHW),
    "adaptive_max2d_nan": dict(expr="F.adaptive_max_pool2d(x, (3, 5))", inputs=NAN_NCHW),
    "adaptive_avg2d_plus_row_maxima": dict(
        expr="F.adaptive_avg_pool2d(x, (4, 3)) + y.amax(-1, keepdim=True)",
        inputs=f"{NCHW}, torch.randn(2, 3, 4, 7)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(ADAPTIVE))
def test_adaptive_pooling_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**ADAPTIVE[name]), tmp_path, name)


COMPUTED = {
    "relu_then_max_pool": dict(expr="F.max_pool2d(torch.relu(x), 2)", inputs=NCHW),
    "conv_relu_max_pool": dict(
        expr="F.max_pool2d(torch.relu(self.conv(x)), 2, stride=1, padding=1)",
        body="self.conv = nn.Conv2d(3, 4, 3)",
        inputs=NCHW,
    ),
    "conv_avg_pool1d_scaled": dict(
        expr="F.avg_pool1d(self.conv(x), 3) * 2",
        body="self.conv = nn.Conv1d(3, 4, 3)",
        inputs=NCL,
    ),
    "linear_max_pool_sum": dict(
        expr="F.max_pool1d(self.lin(x).unsqueeze(1), 2).squeeze(1).sum(1) * 0.5",
        body="self.lin = nn.Linear(12, 10)",
        inputs="torch.randn(4, 12)",
    ),
}


@pytest.mark.parametrize("name", sorted(COMPUTED))
def test_pooling_a_computed_value_takes_a_stage_of_its_own(name: str, tmp_path: Path) -> None:
    """The pooled value is written to a buffer by the stage that computes it; the pooling
    stage reads its windows from there."""
    code = check(task(**COMPUTED[name]), tmp_path, name)
    assert "_buf" in code and "stage2_kernel" in code


def test_the_design_says_how_windows_are_read() -> None:
    text = plan_design(request(task("F.avg_pool2d(x, 2)", inputs=NCHW))).text
    assert "Pooling (avg_pool2d): each output reads its window from the input" in text
