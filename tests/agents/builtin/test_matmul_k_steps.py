"""The matmul's K loop: whole BLOCK_K steps load with no mask along K, and only the last,
partial step is masked (none under EVEN_K); fp32 products take the configuration's
precision. In the interpreter at small sizes, with ragged M, N and K."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.builtin.reference import trace_reference
from agents.builtin.search import MATMUL_FP32_CONFIGS
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import check_code, full_size_launches, render_with, task

# 16 x 16 x 16 tiles, no K split unless a case asks for one
SMALL = {"BLOCK_M": 16, "BLOCK_N": 16, "BLOCK_K": 16, "GROUP_M": 2, "num_warps": 4}
SMALL |= {"num_stages": 2, "SPLIT_K_PROGRAMS": 0}
SPLIT = {**SMALL, "SPLIT_K_PROGRAMS": 1_000_000}  # K cut into chunks of 8 steps

CASES = {
    # name: (M, K, N, config, EVEN_K, K chunks)
    "even_k": (20, 48, 24, SMALL, True, 1),
    "ragged_k": (20, 37, 24, SMALL, False, 1),
    "k_shorter_than_a_step": (18, 5, 17, SMALL, False, 1),
    "split_even_k": (20, 512, 18, SPLIT, True, 4),
    "split_ragged_k": (20, 300, 18, SPLIT, False, 3),  # the last chunk ends in 12 of 16
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_k_steps_mask_only_the_ragged_last_step(name: str, tmp_path: Path) -> None:
    m, k, n, config, even_k, chunks = CASES[name]
    source = task(
        "torch.relu(torch.matmul(x, y)) + 1",
        inputs=f"torch.randn({m}, {k}), torch.randn({k}, {n})",
        args="x, y",
    )
    code = render_with(source, config)
    launches = full_size_launches(source, tmp_path, code)
    kernel, grid, keywords = launches[0]
    assert kernel == "op_kernel" and keywords["EVEN_K"] is even_k
    assert (grid[2] if len(grid) == 3 else 1) == chunks
    check_code(source, code, tmp_path)


def test_the_masked_last_step_is_compiled_out_under_even_k() -> None:
    source = task(
        "torch.matmul(x, y)", inputs="torch.randn(20, 37), torch.randn(37, 24)", args="x, y"
    )
    code = render_with(source, SMALL)
    loop, tail = code.split("for k0 in range(k_start, k_whole, BLOCK_K):")[1].split(
        "if not EVEN_K:", 1
    )
    assert "< K" not in loop  # whole steps: masked by rows and columns only
    assert "if k_whole < k_end:" in tail and "(k[None, :] < K)" in tail


def test_fp32_products_take_the_configured_precision() -> None:
    """On the GPU (not the interpreter, which computes exactly) fp32 operands use the
    configuration's `fp32_dot`: the first configuration's tf32x3, and ieee where asked."""
    source = task(
        "torch.matmul(x, y)", inputs="torch.randn(20, 40), torch.randn(40, 24)", args="x, y"
    )
    lowered = lower_graph(trace_reference(source, "torch"))
    first = lowered.render("op", dict(MATMUL_FP32_CONFIGS[0]), False)
    assert "input_precision='tf32x3'" in first and "'ieee'" not in first
    ieee = lowered.render("op", {**MATMUL_FP32_CONFIGS[0], "fp32_dot": "ieee"}, False)
    assert "input_precision='ieee'" in ieee and "'tf32x3'" not in ieee
