"""The convolution kernels compile for an H100/H200 (sm_90) without a GPU: Triton lowers them
through its GPU passes and ptxas in a subprocess, so an error the interpreter cannot see (a
layout, a pipelined loop under a branch) fails here; each output store runs a warp's
threads along the pixels (coalesced in NCHW), odd output rows included, in Triton 3.6 (the GPU
machine's) as in 3.9; the taps kernel's K walk is one pipelined loop."""

from __future__ import annotations

from pathlib import Path

import pytest
import triton

from agents.builtin.conv_configs import CONV_FP32_CONFIGS
from agents.builtin.reference import trace_reference
from agents.builtin.search import configs_for, search_space
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import first_launch_arguments, task
from tests.agents.builtin.sm90_compile import compile_in_subprocess

# a strided transposed convolution: the phased taps kernel's channel loop sits under a branch;
# its output rows are odd, 17 positions (9 a phase), where Triton 3.6 ran a store's warp along
# the channels (conv_writer.PAD_ROWS_FROM)
SOURCE = task(
    "torch.relu(self.c(x))",
    body="self.c = nn.ConvTranspose2d(32, 64, 3, stride=2, padding=1)",
    inputs="torch.randn(2, 32, 10, 9)",
)
SIZES = {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "CIN_G": 32, "COUT_G": 64}
KERNELS = ["op_kernel", "op_taps_kernel", "op_direct_kernel"]
UNPHASED = "self.c = nn.Conv2d(64, 64, 3, padding=1)"


def _compile(
    tmp_path: Path,
    source: str,
    config: dict,
    kernels: list[str],
    sizes: dict = SIZES,
    launch: dict | None = None,
) -> list[dict]:
    """Each kernel's store layout, loops and asynchronous copies, compiled for sm_90 with
    the compile-time sizes given (and the integer arguments of `launch`, specialised)."""
    if not Path(triton.__file__).parent.joinpath("backends/nvidia/bin/ptxas").exists():
        pytest.skip("this Triton wheel carries no ptxas")
    lowered = lower_graph(trace_reference(source, "torch"))
    candidate = tmp_path / "sm90_candidate.py"
    candidate.write_text(lowered.render("op", dict(config), False))
    records = compile_in_subprocess(candidate, kernels, sizes, tmp_path / "cache", launch)
    assert [r["kernel"] for r in records] == kernels
    return records


def _first_config(source: str) -> dict:
    return configs_for(search_space(lower_graph(trace_reference(source, "torch")).plan))[0]


def _along_the_pixels(record: dict) -> bool:
    """The store's layout runs a warp's 32 threads along the pixels (the tile's last dim)."""
    layout = record["layout"][1]
    return "threadsPerWarp = [1, 32]" in layout and "order = [1, 0]" in layout


def test_convolution_kernels_compile_for_sm90_with_coalesced_stores(tmp_path: Path) -> None:
    """Compiled as the task's launch would specialise them (the output's unit stride a
    constant), rows of 17: each kernel's store a (BLOCK_N channels, BLOCK_M pixels) tile, a
    warp along the pixels; but the phased taps kernel's, whose pixels are 2 apart along a row
    (one output phase a program): no layout proves them contiguous, and Triton 3.6 breaks that
    tie towards the channels, 3.9 towards the pixels."""
    config = _first_config(SOURCE)
    launch = _launch(tmp_path, SOURCE, config, "op_taps_kernel")
    records = _compile(tmp_path, SOURCE, config, KERNELS, {**SIZES, **launch}, launch)
    for record in records:
        assert "tensor<64x128x!tt.ptr<f32>" in record["layout"][0], record
    unphased = [r for r in records if r["kernel"] != "op_taps_kernel"]
    assert len(unphased) == 2 and all(_along_the_pixels(r) for r in unphased), records


def test_the_unphased_taps_kernel_stores_odd_rows_along_the_pixels(tmp_path: Path) -> None:
    """A convolution with rows of 17 output pixels walks them padded to 18, so that Triton
    3.6 too proves the pixels contiguous (in pairs) and runs a store's warp along them."""
    source = task("self.c(x)", body=UNPHASED, inputs="torch.randn(2, 64, 17, 17)")
    config = _first_config(source)
    launch = _launch(tmp_path, source, config, "op_taps_kernel")
    (record,) = _compile(tmp_path, source, config, ["op_taps_kernel"], launch, launch)
    assert _along_the_pixels(record), record


def _launch(tmp_path: Path, source: str, config: dict, kernel: str) -> dict:
    """The integer arguments and constexprs of `kernel`'s launch at the task's size (meta
    tensors: nothing runs)."""
    code = lower_graph(trace_reference(source, "torch")).render("op", dict(config), False)
    launch = first_launch_arguments(code, source, tmp_path, kernel, run=False)
    assert launch, f"the task launches no {kernel}"
    return {k: v for k, v in launch.items() if type(v) in (int, bool)}


@pytest.mark.parametrize(
    ("form", "loops", "widths"),
    [("single", 1, {"4", "16"}), ("channels_last", 1, {"16"}), ("nested", 2, {"4"})],
)
def test_the_taps_kernel_walks_taps_and_channels_in_one_pipelined_loop(
    form: str, loops: int, widths: set[str], tmp_path: Path
) -> None:
    """Unphased, the taps kernel's K walk is one loop whose loads the pipeliner makes
    asynchronous copies, its weight tiles 16 bytes wide (the input's gathered tiles 4,
    16 with the input made channels-last); the nested form (a configuration) is a loop in
    a loop of 4-byte copies. Compiled as a launch at 2 x 64 x 32 x 32 specialises it."""
    source = task("self.c(x)", body=UNPHASED, inputs="torch.randn(2, 64, 32, 32)")
    config = {
        "single": next(
            c
            for c in CONV_FP32_CONFIGS
            if c.get("taps_loop") == "single" and not c.get("x_channels_last")
        ),
        "channels_last": next(c for c in CONV_FP32_CONFIGS if c.get("x_channels_last")),
        "nested": next(c for c in CONV_FP32_CONFIGS if c.get("taps_loop") == "nested"),
    }[form]
    launch = _launch(tmp_path, source, config, "op_taps_kernel")
    (record,) = _compile(tmp_path, source, config, ["op_taps_kernel"], launch, launch)
    assert record["loops"] == loops and record["async_copies"] > 0, record
    assert set(record["copy_widths"]) == widths, record


def test_the_landing_taps_loop_is_one_pipelined_loop(tmp_path: Path) -> None:
    """A strided transposed convolution with phase_loop="single": per phase one loop over
    (landing tap, channel block), no branch, its copies asynchronous and all 16 bytes wide
    (phase_channels_last), where the nested phase loop is a loop in a loop under a branch."""
    source = task(
        "self.c(x)",
        body="self.c = nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1)",
        inputs="torch.randn(2, 64, 32, 32)",
    )
    config = next(c for c in CONV_FP32_CONFIGS if c.get("phase_loop") == "single")
    launch = _launch(tmp_path, source, config, "op_taps_kernel")
    (record,) = _compile(tmp_path, source, config, ["op_taps_kernel"], launch, launch)
    assert record["loops"] == 1 and record["async_copies"] > 0, record
    assert set(record["copy_widths"]) == {"16"}, record
