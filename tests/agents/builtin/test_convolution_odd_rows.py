"""Odd output rows of 9 positions or more, which the convolution kernels walk padded to an even
length (conv_writer.PAD_ROWS_FROM, so that Triton 3.6 runs each store's warp along the
pixels), in the Triton interpreter: every kernel (flattened, taps, phased taps with the last
dim strided and not, direct), 1-D, 2-D and 3-D, against the reference; the padded position
is masked, and the grid has the tiles the padded rows need."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import check, first_launch_arguments, task

ODD_ROWS = {
    # K = 3 channels x 9 taps: the flattened kernel; 11 rows of 11, 121 pixels walked as 132:
    # two tiles of 128 (a grid of unpadded rows would leave the last pixels out)
    "flattened_2d": ("nn.Conv2d(3, 16, 3, padding=1)", "torch.randn(1, 3, 11, 11)", "op_kernel"),
    # rows of 9 in a 3-D output, the flattened kernel
    "flattened_3d": ("nn.Conv3d(3, 16, (1, 2, 3))", "torch.randn(1, 3, 2, 3, 11)", "op_kernel"),
    # 16 channels a tap: the taps kernel; 1-D, 9 positions
    "taps_1d": ("nn.Conv1d(16, 16, 3)", "torch.randn(2, 16, 11)", "op_taps_kernel"),
    # a phase a program, rows of 17 output positions: 9 a phase, padded to 10
    "phased_strided_rows": (
        "nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)",
        "torch.randn(1, 16, 2, 9)",
        "op_taps_kernel",
    ),
    # phases down the height only: the rows of 11 are walked whole, padded to 12
    "phased_unstrided_rows": (
        "nn.ConvTranspose2d(16, 16, 3, stride=(2, 1), padding=1)",
        "torch.randn(1, 16, 2, 11)",
        "op_taps_kernel",
    ),
    # depthwise: the direct kernel, 11 rows of 11 (two tiles of 128 pixels, as above)
    "direct_2d": ("nn.Conv2d(4, 4, 3, padding=1, groups=4)", "torch.randn(1, 4, 11, 11)", None),
}


@pytest.mark.parametrize("name", sorted(ODD_ROWS))
def test_odd_rows_walked_padded_match_the_reference(name: str, tmp_path: Path) -> None:
    body, inputs, kernel = ODD_ROWS[name]
    source = task("torch.relu(self.c(x))", body=f"self.c = {body}", inputs=inputs)
    code = check(source, tmp_path)
    kernel = kernel or "op_direct_kernel"
    launch = first_launch_arguments(code, source, tmp_path, kernel, run=False)
    assert launch, f"{name} launched no {kernel}"
