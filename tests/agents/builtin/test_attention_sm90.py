"""The attention kernels compile for an H100/H200 (sm_90) without a GPU: Triton lowers them
through its GPU passes and ptxas in a subprocess (fp32 operands: the tf32x3 dots), so an
error the interpreter cannot see fails here; and the flash kernel's two key walks (the
unmasked blocks, then the causal diagonal) are both software-pipelined loops."""

from __future__ import annotations

from pathlib import Path

import pytest
import triton

from agents.builtin.reference import trace_reference
from agents.builtin.search import configs_for, search_space
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import task
from tests.agents.builtin.sm90_compile import compile_in_subprocess

SOURCE = task(
    "F.scaled_dot_product_attention(q, k, v, is_causal=True)",
    inputs=", ".join(["torch.randn(1, 2, 64, 64)"] * 3),
    args="q, k, v",
)
# the causal flash kernel's two key loops; the wide heads' kernels take the same sizes
SIZES = {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_D": 64, "BLOCK_DV": 64, "BLOCK_S": 512}
SIZES |= {"CAUSAL": True, "HAS_MASK": False, "MASK_KEEPS": False}
KERNELS = ["op_kernel", "op_scores_kernel", "op_softmax_kernel", "op_pv_kernel"]


def test_attention_kernels_compile_for_sm90(tmp_path: Path) -> None:
    if not Path(triton.__file__).parent.joinpath("backends/nvidia/bin/ptxas").exists():
        pytest.skip("this Triton wheel carries no ptxas")
    lowered = lower_graph(trace_reference(SOURCE, "torch"))
    config = configs_for(search_space(lowered.plan))[0]
    candidate = tmp_path / "sm90_attention.py"
    candidate.write_text(lowered.render("op", dict(config), False))
    records = compile_in_subprocess(candidate, KERNELS, SIZES, tmp_path / "cache")
    assert [r["kernel"] for r in records] == KERNELS
    assert records[0]["loops"] == 2 and records[0]["async_copies"] >= 4, records[0]
