"""Convolutions through the implicit-GEMM and direct kernels, in the Triton interpreter:
1-D/2-D/3-D, stride, padding (asymmetric through F.pad), dilation, groups, depthwise,
pointwise 1x1, bias and epilogues, fp16/bf16, and transposed convolutions."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.builtin.conv_configs import CONV_FP32_CONFIGS
from tests.agents.builtin.builtin_harness import (
    check,
    check_code,
    full_size_launches,
    render_with,
    task,
)

CONVS = {
    # implicit GEMM (16+ output channels per group and K >= 16)
    "conv2d_strided_padded_bias": dict(
        body="self.c = nn.Conv2d(4, 16, 3, stride=2, padding=1)", inputs="torch.randn(2, 4, 9, 8)"
    ),
    "conv1d_dilated_strided": dict(
        body="self.c = nn.Conv1d(6, 20, 3, stride=2, dilation=2, bias=False)",
        inputs="torch.randn(2, 6, 17)",
    ),
    "conv3d_asymmetric_kernel": dict(
        body="self.c = nn.Conv3d(3, 16, (3, 2, 3), stride=(1, 2, 1), padding=(1, 0, 2))",
        inputs="torch.randn(1, 3, 5, 6, 4)",
    ),
    "conv2d_grouped_relu": dict(
        body="self.c = nn.Conv2d(8, 32, (2, 3), groups=2, dilation=(2, 1))",
        inputs="torch.randn(2, 8, 7, 6)",
        expr="torch.relu(self.c(x)) * 2",
    ),
    "conv2d_pointwise_1x1": dict(
        body="self.c = nn.Conv2d(16, 24, 1, bias=False)", inputs="torch.randn(2, 16, 5, 3)"
    ),
    "conv2d_asymmetric_pad": dict(
        body="self.c = nn.Conv2d(4, 16, 3)",
        inputs="torch.randn(2, 4, 6, 5)",
        expr="self.c(F.pad(x, (2, 0, 1, 3)))",
    ),
    "conv2d_fp16": dict(
        body="self.c = nn.Conv2d(4, 16, 3, padding=1).half()",
        inputs="torch.randn(2, 4, 6, 5, dtype=torch.float16)",
    ),
    "conv2d_bf16": dict(
        body="self.c = nn.Conv2d(4, 16, 3).to(torch.bfloat16)",
        inputs="torch.randn(1, 4, 6, 5, dtype=torch.bfloat16)",
    ),
    # implicit GEMM with a K loop per tap (the group's input channels fill BLOCK_K steps)
    "conv2d_channels_per_tap": dict(
        body="self.c = nn.Conv2d(32, 16, 3, stride=2, padding=1)", inputs="torch.randn(1, 32, 5, 6)"
    ),
    "conv3d_grouped_channels_per_tap_gelu": dict(
        body="self.c = nn.Conv3d(64, 32, (1, 2, 3), groups=2, padding=(0, 1, 1), dilation=2)",
        inputs="torch.randn(1, 64, 2, 4, 5)",
        expr="F.gelu(self.c(x))",
    ),
    # ... 16 channels a step (the least tl.dot takes), or a tap's last step part masked
    "conv2d_sixteen_channels_per_tap": dict(
        body="self.c = nn.Conv2d(16, 16, 3, padding=1)", inputs="torch.randn(1, 16, 5, 6)"
    ),
    "conv2d_ragged_channel_steps": dict(
        body="self.c = nn.Conv2d(56, 16, 3, bias=False)", inputs="torch.randn(1, 56, 4, 5)"
    ),
    "conv_transpose2d_unstrided_per_tap": dict(
        body="self.c = nn.ConvTranspose2d(32, 16, 3, padding=1, dilation=2)",
        inputs="torch.randn(1, 32, 4, 3)",
    ),
    "conv_transpose2d_channels_per_tap": dict(
        body="self.c = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, dilation=2)",
        inputs="torch.randn(1, 32, 4, 3)",
    ),
    # ... a strided transposed one: a program per output phase, only the taps that land
    "conv_transpose1d_phases_output_padding": dict(
        body="self.c = nn.ConvTranspose1d(32, 16, 4, stride=3, padding=1, output_padding=2)",
        inputs="torch.randn(2, 32, 5)",
    ),
    "conv_transpose3d_phases_grouped": dict(
        body="self.c = nn.ConvTranspose3d(64, 32, (2, 3, 3), stride=(2, 1, 3), groups=2)",
        inputs="torch.randn(1, 64, 2, 3, 2)",
        expr="torch.tanh(self.c(x))",
    ),
    # direct kernel (few output channels per group)
    "conv2d_depthwise": dict(
        body="self.c = nn.Conv2d(6, 6, 3, stride=2, padding=1, groups=6)",
        inputs="torch.randn(2, 6, 7, 9)",
    ),
    "conv1d_depthwise_multiplier": dict(
        body="self.c = nn.Conv1d(4, 8, 5, padding=2, groups=4, bias=False)",
        inputs="torch.randn(2, 4, 11)",
    ),
    "conv2d_few_out_channels": dict(
        body="self.c = nn.Conv2d(5, 3, 3)", inputs="torch.randn(1, 5, 6, 6)"
    ),
    # transposed: the gather form
    "conv_transpose2d_strided_padded": dict(
        body="self.c = nn.ConvTranspose2d(4, 16, 3, stride=2, padding=1, output_padding=1)",
        inputs="torch.randn(2, 4, 5, 4)",
    ),
    "conv_transpose1d_dilated": dict(
        body="self.c = nn.ConvTranspose1d(8, 16, 3, stride=3, padding=2, dilation=2)",
        inputs="torch.randn(2, 8, 6)",
    ),
    "conv_transpose3d_grouped": dict(
        body="self.c = nn.ConvTranspose3d(8, 32, (2, 3, 2), stride=(2, 1, 2), groups=2)",
        inputs="torch.randn(1, 8, 3, 4, 3)",
    ),
    "conv_transpose2d_depthwise": dict(
        body="self.c = nn.ConvTranspose2d(4, 4, 3, stride=2, groups=4, bias=False)",
        inputs="torch.randn(2, 4, 4, 3)",
    ),
}

SINGLE = next(
    c for c in CONV_FP32_CONFIGS if c.get("taps_loop") == "single" and not c.get("x_channels_last")
)


@pytest.mark.parametrize("name", sorted(CONVS))
def test_convolution_matches_reference(name: str, tmp_path: Path) -> None:
    case = {"expr": "self.c(x)", **CONVS[name]}
    check(task(**case), tmp_path, name)


@pytest.mark.parametrize(
    ("body", "channels", "kernel"),
    [
        ("nn.Conv2d(64, 64, 3, groups=64)", 64, "op_direct_kernel"),  # depthwise
        ("nn.Conv2d(3, 64, 3)", 3, "op_kernel"),  # K = 3 channels x 9 taps, flattened
        ("nn.Conv2d(64, 128, 3)", 64, "op_taps_kernel"),  # 64 channels per tap
        ("nn.Conv2d(16, 128, 3)", 16, "op_taps_kernel"),  # 16 channels per tap
        ("nn.ConvTranspose2d(64, 32, 3, stride=2, groups=2)", 64, "op_taps_kernel"),
    ],
)
def test_convolution_picks_its_kernel_by_channels(
    body: str, channels: int, kernel: str, tmp_path: Path
) -> None:
    """At full size (meta tensors, nothing runs) the host launches the kernel that fits
    (with the single taps loop, whose channel step narrows to 16)."""
    source = task(
        "self.c(x)", body=f"self.c = {body}", inputs=f"torch.randn(2, {channels}, 32, 32)"
    )
    launches = full_size_launches(source, tmp_path, render_with(source, SINGLE))
    assert [name for name, _, _ in launches] == [kernel]


@pytest.mark.parametrize(
    ("body", "channels", "block_n"),
    [
        ("nn.Conv2d(64, 64, 3)", 64, 64),  # taps kernel: 64 output channels a tile
        ("nn.Conv2d(3, 24, 3)", 3, 32),  # flattened kernel
        ("nn.ConvTranspose2d(64, 48, 3, stride=2, groups=2)", 64, 32),  # phased, 24 a group
        ("nn.Conv2d(64, 256, 3)", 64, 128),  # the configuration's BLOCK_N
    ],
)
def test_a_tile_has_no_more_channels_than_a_group(
    body: str, channels: int, block_n: int, tmp_path: Path
) -> None:
    """At full size the tile's BLOCK_N is the group's output channels rounded up to a power
    of two (16 at least), up to the configuration's; the nested configuration keeps its own."""
    inputs = f"torch.randn(2, {channels}, 32, 32)"
    source = task("self.c(x)", body=f"self.c = {body}", inputs=inputs)
    (_, _, keywords), *_ = full_size_launches(source, tmp_path, render_with(source, SINGLE))
    assert keywords["BLOCK_N"] == block_n
    nested = next(c for c in CONV_FP32_CONFIGS if c.get("taps_loop") == "nested")
    launches = full_size_launches(source, tmp_path, render_with(source, nested))
    assert launches[0][2]["BLOCK_N"] == nested["BLOCK_N"]  # as measured on the H200


def test_the_nested_taps_loop_is_a_configuration(tmp_path: Path) -> None:
    """The taps kernel as it was measured on the H200 (a channel loop in a loop over taps)
    stays a searched configuration, and computes the same convolution."""
    case = {"expr": "self.c(x)", **CONVS["conv2d_ragged_channel_steps"]}
    source = task(**case)
    nested = next(c for c in CONV_FP32_CONFIGS if c.get("taps_loop") == "nested")
    code = render_with(source, nested)
    assert "for c0 in range(0, CIN_G, BLOCK_K):" in code and "c_steps" not in code
    check_code(source, code, tmp_path)
    assert "for step in range(0, KS0 * KS1 * c_steps):" in render_with(source, SINGLE)
    with pytest.raises(ValueError, match="taps_loop='unrolled': use one of"):
        render_with(source, {**nested, "taps_loop": "unrolled"})


@pytest.mark.parametrize(
    "name", ["conv3d_grouped_channels_per_tap_gelu", "conv_transpose2d_unstrided_per_tap"]
)
def test_a_channels_last_input_is_a_configuration(name: str, tmp_path: Path) -> None:
    """The single loop with the input copied channels-last per call (grouped; transposed)."""
    source = task(**{"expr": "self.c(x)", **CONVS[name]})
    config = next(c for c in CONV_FP32_CONFIGS if c.get("x_channels_last"))
    code = render_with(source, config)
    assert "x = x.movedim(1, -1).contiguous().movedim(-1, 1)" in code
    check_code(source, code, tmp_path)


STAGED = {
    # KernelBench 86: a depthwise then a pointwise convolution, one kernel each
    "depthwise_separable": dict(
        expr="self.b(self.a(x))",
        body="self.a = nn.Conv2d(4, 4, 3, padding=1, groups=4); self.b = nn.Conv2d(4, 16, 1)",
        inputs="torch.randn(2, 4, 5, 6)",
    ),
    # level 2's pattern: the group norm's stage recomputes the output's H * W itself
    "conv_group_norm_relu": dict(
        expr="torch.relu(self.gn(self.a(x)))",
        body="self.a = nn.Conv2d(4, 16, 3); self.gn = nn.GroupNorm(4, 16)",
        inputs="torch.randn(2, 4, 7, 6)",
    ),
    # a computed input (padded: the pad still folds in) or weight: a copy stage writes it
    "conv_of_padded_relu": dict(
        expr="self.a(F.pad(torch.relu(x), (1, 0, 0, 2)))",
        body="self.a = nn.Conv2d(4, 16, 3)",
        inputs="torch.randn(2, 4, 5, 6)",
    ),
    "conv_of_scaled_weight": dict(
        expr="F.conv1d(x, self.w * 2, stride=2)",
        body="self.w = nn.Parameter(torch.randn(16, 4, 3))",
        inputs="torch.randn(2, 4, 9)",
    ),
    # a reduction of the convolution's output: the reduction's R is (H - k + 1) * (W - k + 1)
    "conv_relu_spatial_mean": dict(
        expr="torch.relu(self.a(x)).mean(dim=(2, 3))",
        body="self.a = nn.Conv2d(4, 16, 3)",
        inputs="torch.randn(2, 4, 7, 6)",
    ),
}


@pytest.mark.parametrize("name", sorted(STAGED))
def test_a_convolution_next_to_other_kernels_is_a_stage(name: str, tmp_path: Path) -> None:
    code = check(task(**STAGED[name]), tmp_path, name)
    assert "stage 2" in code


def test_channel_step_fit_takes_48_channels_in_steps_of_16(tmp_path: Path) -> None:
    """48 input channels pad 32-channel steps by 1/3: the flattened kernel, or with
    channel_step_fit the taps kernel in 3 steps of 16 a tap (KernelBench 61 and 70)."""
    fit = next(c for c in CONV_FP32_CONFIGS if c.get("channel_step_fit"))
    body = "self.c = nn.ConvTranspose3d(48, 24, 3, bias=False)"
    full = task("self.c(x)", body=body, inputs="torch.randn(2, 48, 8, 8, 8)")
    plain = next(
        c for c in CONV_FP32_CONFIGS if c.get("x_channels_last") and not c.get("channel_step_fit")
    )
    ((kernel, _, _),) = full_size_launches(full, tmp_path, render_with(full, plain))
    assert kernel == "op_kernel"
    ((kernel, _, keywords),) = full_size_launches(full, tmp_path, render_with(full, fit))
    assert (kernel, keywords["BLOCK_K"]) == ("op_taps_kernel", 16)
    tiny = task("torch.relu(self.c(x))", body=body, inputs="torch.randn(1, 48, 3, 2, 3)")
    check_code(tiny, render_with(tiny, fit), tmp_path)
