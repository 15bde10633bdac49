"""Strided transposed convolutions (a program per output phase) in the configurations that
give their taps kernel a form of its own (conv_forms.ConvForm): channels-last operands, one
loop over the taps that land on the phase, the phases of a tile on neighbouring programs,
and the phased taps kernel for few channels per group. Interpreter runs at tiny sizes, and
the launches at full size on meta tensors."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.builtin.conv_configs import CONV_FP32_CONFIGS
from agents.builtin.conv_forms import ConvForm, conv_form
from tests.agents.builtin.builtin_harness import check_code, full_size_launches, render_with, task

NESTED_CHANNELS_LAST = next(
    c for c in CONV_FP32_CONFIGS if c.get("phase_channels_last") and "phase_loop" not in c
)
LANDING = next(c for c in CONV_FP32_CONFIGS if c.get("phase_loop") == "single")
ALL_PHASE_FORMS = next(c for c in CONV_FP32_CONFIGS if c.get("phase_small_groups"))
# the channels-last single loop without the phase forms (first until 2026-11-30)
PLAIN = next(
    c
    for c in CONV_FP32_CONFIGS
    if conv_form(c) == ConvForm(x_channels_last=True) and c["BLOCK_N"] == 64
)

PHASED = {
    # 1-D, stride 3, output padding: the landing taps are 3 apart, 1 or 2 of 4 per phase
    "conv_transpose1d_output_padding": (
        "nn.ConvTranspose1d(32, 16, 4, stride=3, padding=1, output_padding=2)",
        "torch.randn(2, 32, 5)",
    ),
    # stride 2 with dilation 2: every tap lands on odd phases, none on even ones
    "conv_transpose2d_dilation_shares_the_stride": (
        "nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, dilation=2, bias=False)",
        "torch.randn(1, 32, 4, 3)",
    ),
    # stride 5 with dilation 2 (KernelBench 81): at most one of 3 taps lands, on 3 of 5 phases
    "conv_transpose2d_stride_past_the_taps": (
        "nn.ConvTranspose2d(16, 16, 3, stride=(5, 3), padding=1, dilation=2)",
        "torch.randn(1, 16, 3, 2)",
    ),
    # 3-D, one dim unstrided, grouped
    "conv_transpose3d_mixed_strides_grouped": (
        "nn.ConvTranspose3d(64, 32, (2, 3, 3), stride=(2, 1, 3), groups=2)",
        "torch.randn(1, 64, 2, 3, 2)",
    ),
    # 8 input and 8 output channels per group (KernelBench 72): the phased taps kernel with
    # phase_small_groups, the direct kernel otherwise
    "conv_transpose3d_small_groups": (
        "nn.ConvTranspose3d(16, 16, (3, 2, 3), stride=2, padding=(1, 0, 1), output_padding=1, "
        "groups=2)",
        "torch.randn(1, 16, 2, 3, 2)",
    ),
}


def _source(name: str) -> str:
    body, inputs = PHASED[name]
    return task("torch.relu(self.c(x))", body=f"self.c = {body}", inputs=inputs)


@pytest.mark.parametrize("name", sorted(PHASED))
def test_the_landing_taps_loop_computes_the_convolution(name: str, tmp_path: Path) -> None:
    """All the phase forms together: one loop over (landing tap, channel block) per phase,
    channels-last operands, interleaved phases, small groups in the taps kernel."""
    code = render_with(_source(name), ALL_PHASE_FORMS)
    assert "tn0" in code and "if ((ph" not in code  # no branch per tap
    check_code(_source(name), code, tmp_path)


def test_the_nested_phase_loop_reads_channels_last(tmp_path: Path) -> None:
    source = _source("conv_transpose2d_stride_past_the_taps")
    code = render_with(source, NESTED_CHANNELS_LAST)
    assert "x = x.movedim(1, -1).contiguous().movedim(-1, 1)" in code
    assert "x = x.movedim" not in render_with(source, PLAIN)  # phased: NCHW as before
    check_code(source, code, tmp_path)


FULL_SIZE = {
    # KernelBench 72's convolution: 8 input and 8 output channels per group, stride 2
    "small_groups": ("nn.ConvTranspose3d(32, 32, (3, 5, 7), stride=2, groups=4)", 32, 3),
    # KernelBench 81's: stride 5, 32 input channels
    "wide": ("nn.ConvTranspose2d(32, 64, 3, stride=5, padding=1, dilation=2)", 32, 2),
    # depthwise: 256 padded products per useful one, more than the 4 phases waste
    "depthwise": ("nn.ConvTranspose2d(32, 32, 3, stride=2, groups=32)", 32, 2),
}


def _launch(name: str, config: dict, tmp_path: Path) -> tuple[str, tuple[int, ...], dict]:
    body, channels, spatial = FULL_SIZE[name]
    sizes = ", ".join(["2", str(channels), *["16"] * spatial])
    source = task("self.c(x)", body=f"self.c = {body}", inputs=f"torch.randn({sizes})")
    ((kernel, grid, keywords),) = full_size_launches(source, tmp_path, render_with(source, config))
    return kernel, grid, keywords


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        ("small_groups", "op_direct_kernel", "op_taps_kernel"),
        ("wide", "op_taps_kernel", "op_taps_kernel"),
        ("depthwise", "op_direct_kernel", "op_direct_kernel"),
    ],
)
def test_phase_forms_at_full_size(name: str, before: str, after: str, tmp_path: Path) -> None:
    """The first configuration launches as it did; with the phase forms a small-group
    convolution takes the taps kernel with 16-wide tiles, and the phases move to grid axis
    0 next to each other (axis 1: the groups alone)."""
    kernel, grid, _ = _launch(name, PLAIN, tmp_path)
    assert kernel == before
    kernel, new_grid, keywords = _launch(name, ALL_PHASE_FORMS, tmp_path)
    assert kernel == after
    if after == "op_taps_kernel":
        groups = 4 if name == "small_groups" else 1
        assert new_grid[1] == groups
        assert keywords["BLOCK_N"] == (16 if name == "small_groups" else 64)
        assert keywords["BLOCK_K"] == (16 if name == "small_groups" else 32)
    if before == after == "op_taps_kernel":  # the same programs, laid out otherwise
        assert new_grid[0] * new_grid[1] == grid[0] * grid[1]


def test_a_phase_loop_not_known_is_refused() -> None:
    source = _source("conv_transpose1d_output_padding")
    with pytest.raises(ValueError, match="phase_loop='unrolled': use one of"):
        render_with(source, {**LANDING, "phase_loop": "unrolled"})
