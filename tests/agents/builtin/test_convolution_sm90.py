"""The convolution kernels compile for an H100/H200 (sm_90) without a GPU: Triton lowers them
through its GPU passes and ptxas in a subprocess, so an error the interpreter cannot see (a
layout, a pipelined loop under a branch) fails here; each output store runs a warp's
threads along the pixels (coalesced in NCHW); the taps kernel's K walk is one pipelined loop."""

from __future__ import annotations

from pathlib import Path

import pytest
import triton

from agents.builtin.conv_configs import CONV_FP32_CONFIGS
from agents.builtin.reference import trace_reference
from agents.builtin.search import configs_for, search_space
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import task
from tests.agents.builtin.sm90_compile import compile_in_subprocess

# a strided transposed convolution: the phased taps kernel's channel loop sits under a branch
SOURCE = task(
    "torch.relu(self.c(x))",
    body="self.c = nn.ConvTranspose2d(32, 64, 3, stride=2, padding=1)",
    inputs="torch.randn(2, 32, 6, 5)",
)
SIZES = {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "CIN_G": 32, "COUT_G": 64}
KERNELS = ["op_kernel", "op_taps_kernel", "op_direct_kernel"]
UNPHASED = "self.c = nn.Conv2d(64, 64, 3, padding=1)"


def _compile(
    tmp_path: Path, source: str, config: dict, kernels: list[str], sizes: dict = SIZES
) -> list[dict]:
    """Each kernel's store layout, loops and asynchronous copies, compiled for sm_90 with
    the compile-time sizes given."""
    if not Path(triton.__file__).parent.joinpath("backends/nvidia/bin/ptxas").exists():
        pytest.skip("this Triton wheel carries no ptxas")
    lowered = lower_graph(trace_reference(source, "torch"))
    candidate = tmp_path / "sm90_candidate.py"
    candidate.write_text(lowered.render("op", dict(config), False))
    records = compile_in_subprocess(candidate, kernels, sizes, tmp_path / "cache")
    assert [r["kernel"] for r in records] == kernels
    return records


def _first_config(source: str) -> dict:
    return configs_for(search_space(lower_graph(trace_reference(source, "torch")).plan))[0]


def test_convolution_kernels_compile_for_sm90_with_coalesced_stores(tmp_path: Path) -> None:
    for record in _compile(tmp_path, SOURCE, _first_config(SOURCE), KERNELS):
        store, layout = record["layout"]
        # a (BLOCK_N channels, BLOCK_M pixels) tile, a warp's 32 threads along the pixels
        assert "tensor<64x128x!tt.ptr<f32>" in store, record
        assert "threadsPerWarp = [1, 32]" in layout and "order = [1, 0]" in layout, record


def test_the_taps_kernel_walks_taps_and_channels_in_one_pipelined_loop(tmp_path: Path) -> None:
    """Unphased, the taps kernel's K walk is one loop whose loads the pipeliner makes
    asynchronous copies; the nested form (a configuration) is a loop in a loop."""
    source = task("self.c(x)", body=UNPHASED, inputs="torch.randn(2, 64, 6, 5)")
    sizes = {**SIZES, "CIN_G": 64}  # two channel steps a tap
    (single,) = _compile(tmp_path, source, _first_config(source), ["op_taps_kernel"], sizes)
    assert single["loops"] == 1 and single["async_copies"] > 0, single
    nested = next(c for c in CONV_FP32_CONFIGS if c.get("taps_loop") == "nested")
    (looped,) = _compile(tmp_path, source, nested, ["op_taps_kernel"], sizes)
    assert looped["loops"] == 2, looped
