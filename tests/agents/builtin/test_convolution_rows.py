"""The row-tiled depthwise kernel (depthwise_writer.py, configuration key `direct_rows`) in the
Triton interpreter at tiny sizes: epilogues, padding (asymmetric through F.pad) and none,
dilation, stride along the height, a channel multiplier, fp16, non-square inputs with ragged
row and column blocks; the convolutions it does not serve keep the direct kernel; at full
size (meta tensors) which kernel KernelBench 82/84 launch and with what grid; compiled for
sm_90, a tap's loads at column shift 0 are 16 bytes wide."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.builtin.conv_configs import CONV_CONFIGS, CONV_FP32_CONFIGS
from agents.builtin.reference import trace_reference
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import (
    check_code,
    first_launch_arguments,
    full_size_launches,
    render_with,
    task,
)
from tests.agents.builtin.sm90_compile import compile_in_subprocess

ROWS_2X512, ROWS_4X256 = (c for c in CONV_FP32_CONFIGS if "direct_rows" in c)
# 2 rows x 4 columns a program: tiny inputs split into several row and column blocks
SMALL_TILE = {**ROWS_2X512, "direct_rows": [2, 4, 1]}
ROWS_KERNEL, DIRECT_KERNEL = "op_direct_rows_kernel", "op_direct_kernel"

SERVED = {
    # bias and an activation epilogue, padding, 5 x 7: three row blocks, two column blocks
    "padded_bias_relu": dict(
        expr="torch.relu(self.c(x))",
        body="self.c = nn.Conv2d(3, 3, 3, padding=1, groups=3)",
        inputs="torch.randn(2, 3, 5, 7)",
        config=SMALL_TILE,
    ),
    # no padding, no bias, an asymmetric kernel dilated along the width, stride 2 down the rows
    "unpadded_dilated_row_stride_gelu": dict(
        expr="F.gelu(self.c(x))",
        body="self.c = nn.Conv2d(4, 4, (3, 2), stride=(2, 1), dilation=(1, 2), groups=4, "
        "bias=False)",
        inputs="torch.randn(1, 4, 9, 11)",
        config=SMALL_TILE,
    ),
    # a channel multiplier (output channel c reads input channel c // 2), asymmetric F.pad
    "multiplier_asymmetric_pad": dict(
        expr="self.c(F.pad(x, (2, 0, 1, 3))) * 2",
        body="self.c = nn.Conv2d(3, 6, 3, groups=3)",
        inputs="torch.randn(1, 3, 4, 6)",
        config=SMALL_TILE,
    ),
    # the configuration as appended, one 2 x 512 block a row pair
    "configuration_16": dict(
        expr="self.c(x)",
        body="self.c = nn.Conv2d(2, 2, 3, padding=(2, 1), groups=2)",
        inputs="torch.randn(2, 2, 3, 6)",
        config=ROWS_2X512,
    ),
    "fp16": dict(
        expr="self.c(x)",
        body="self.c = nn.Conv2d(3, 3, 3, padding=1, groups=3).half()",
        inputs="torch.randn(1, 3, 4, 5, dtype=torch.float16)",
        config=next(c for c in CONV_CONFIGS if "direct_rows" in c),
    ),
}


@pytest.mark.parametrize("name", sorted(SERVED))
def test_the_row_tiled_kernel_matches_the_reference(name: str, tmp_path: Path) -> None:
    case = dict(SERVED[name])
    config = case.pop("config")
    source = task(**case)
    code = render_with(source, config)
    launches = full_size_launches(source, tmp_path, code)
    assert [kernel for kernel, _, _ in launches] == [ROWS_KERNEL]
    check_code(source, code, tmp_path)


FALLBACKS = {
    # stride 2 along the width: not rendered, the direct kernel
    "strided_columns": ("nn.Conv2d(3, 3, 3, stride=2, groups=3)", "torch.randn(1, 3, 7, 9)"),
    # 1-D: not rendered
    "one_dimensional": ("nn.Conv1d(3, 3, 3, padding=1, groups=3)", "torch.randn(2, 3, 9)"),
    # rendered, but 5 input channels a group: the host picks the direct kernel
    "several_input_channels": ("nn.Conv2d(5, 3, 3)", "torch.randn(1, 5, 5, 6)"),
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_convolutions_it_does_not_serve_keep_the_direct_kernel(name: str, tmp_path: Path) -> None:
    body, inputs = FALLBACKS[name]
    source = task("self.c(x)", body=f"self.c = {body}", inputs=inputs)
    code = render_with(source, SMALL_TILE)
    assert (f"def {ROWS_KERNEL}(" in code) == (name == "several_input_channels")
    launches = full_size_launches(source, tmp_path, code)
    assert [kernel for kernel, _, _ in launches] == [DIRECT_KERNEL]
    check_code(source, code, tmp_path, seeds=1)


@pytest.mark.parametrize(
    ("shape", "config", "grid"),
    [
        ((16, 64, 512, 512), ROWS_2X512, (16 * 64, 255, 1)),  # KernelBench 82
        ((64, 128, 256, 512), ROWS_4X256, (64 * 128, 64, 2)),  # KernelBench 84
    ],
)
def test_kernelbench_depthwise_sizes_launch_one_program_a_plane_and_row_block(
    shape: tuple[int, ...], config: dict, grid: tuple[int, ...], tmp_path: Path
) -> None:
    """At full size (meta tensors, nothing runs) the row-tiled kernel with the configured
    tile; the first configuration (no direct_rows) keeps the direct kernel."""
    channels = shape[1]
    source = task(
        "self.c(x)",
        body=f"self.c = nn.Conv2d({channels}, {channels}, 3, groups={channels}, bias=False)",
        inputs=f"torch.randn{shape}",
    )
    ((kernel, launched, keywords),) = full_size_launches(
        source, tmp_path, render_with(source, config)
    )
    rows, block_w, warps = config["direct_rows"]
    assert (kernel, launched) == (ROWS_KERNEL, grid)
    assert (keywords["ROWS"], keywords["BLOCK_W"], keywords["num_warps"]) == (rows, block_w, warps)
    first = render_with(source, CONV_FP32_CONFIGS[0])
    assert [k for k, _, _ in full_size_launches(source, tmp_path, first)] == [DIRECT_KERNEL]


def test_a_tile_given_as_text_is_read_and_a_bad_one_refused_by_name() -> None:
    """`--set direct_rows=4,256,4` (conv_builtin.py) gives the tile as text."""
    source = task("self.c(x)", **{k: SERVED["fp16"][k] for k in ("body", "inputs")})
    as_text = render_with(source, {**ROWS_2X512, "direct_rows": "4,256,4"})
    assert "ROWS=4, BLOCK_W=256, num_warps=4)" in as_text
    for bad in ([3, 512, 4], "4,256"):
        with pytest.raises(ValueError, match=r"direct_rows=.*: use \[ROWS, BLOCK_W, warps\]"):
            render_with(source, {**ROWS_2X512, "direct_rows": bad})


def test_a_taps_loads_at_shift_0_are_16_bytes_wide_on_sm90(tmp_path: Path) -> None:
    """KernelBench 82's launch compiled for sm_90 (its integer arguments specialised as a
    launch does): of a row's three taps, the one at column shift 0 loads 16-byte vectors
    (the shift-2 one 8, the shift-1 one 4), as in the prototype."""
    source = task(
        "self.c(x)",
        body="self.c = nn.Conv2d(64, 64, 3, groups=64, bias=False)",
        inputs="torch.randn(16, 64, 512, 512)",
    )
    lowered = lower_graph(trace_reference(source, "torch"))
    code = lowered.render("op", dict(ROWS_2X512), False)
    launch = first_launch_arguments(code, source, tmp_path, ROWS_KERNEL, run=False)
    launch = {k: v for k, v in launch.items() if type(v) in (int, bool)}
    candidate = tmp_path / "sm90_candidate.py"
    candidate.write_text(code)
    (record,) = compile_in_subprocess(candidate, [ROWS_KERNEL], launch, tmp_path / "cache", launch)
    # 8 outputs a thread (2 x 512 over 128 threads): two 16-byte vectors a tap at shift 0,
    # four 8-byte ones at shift 2, for each of the window's 3 rows
    widths = record["load_widths"]
    assert (widths.get("16"), widths.get("8")) == (6, 12), record
