"""The matmul's K loop: whole BLOCK_K steps load with no mask along K, and only the last,
partial step is masked (none under EVEN_K); operands off 16-element rows are copied into
aligned buffers first; fp32 products take the configuration's precision. In the
interpreter at small sizes, with ragged M, N and K."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agents.builtin.reference import trace_reference
from agents.builtin.search import MATMUL_FP32_CONFIGS
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import (
    check_code,
    first_launch_arguments,
    full_size_launches,
    render_with,
    task,
)

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


ALIGNED = {**SMALL, "ALIGN_MIN_REUSE": 0}  # copy every misaligned operand, however small
ALIGNMENT_CASES = {
    # name: (expression, inputs, operands that must be read K-contiguous with aligned rows)
    "rows_of_37_and_24": ("x @ y", "torch.randn(20, 37), torch.randn(37, 24)", ("x", "y")),
    "transposed_operand": ("x @ y.t()", "torch.randn(20, 37), torch.randn(24, 37)", ("x", "y")),
    "batched": (
        "torch.bmm(x, y) * 2",
        "torch.randn(2, 20, 37), torch.randn(2, 37, 18)",
        ("x", "y"),
    ),
    # a broadcast operand (a stride 0) is left as it is: a copy would materialise it
    "broadcast_batch": (
        "torch.bmm(x, y.expand(2, 37, 18))",
        "torch.randn(2, 20, 37), torch.randn(1, 37, 18)",
        ("x",),
    ),
}


@pytest.mark.parametrize("name", sorted(ALIGNMENT_CASES))
def test_misaligned_operands_are_read_from_aligned_copies(name: str, tmp_path: Path) -> None:
    expr, inputs, copied = ALIGNMENT_CASES[name]
    source = task(expr, inputs=inputs, args="x, y")
    code = render_with(source, ALIGNED)
    check_code(source, code, tmp_path)
    args = first_launch_arguments(code, source, tmp_path)
    for operand in copied:
        strides = _strides(args, operand)
        assert 1 in strides, (operand, strides)  # K contiguous
        assert all(s % 16 == 0 for s in strides if s != 1), (operand, strides)
    if name == "broadcast_batch":
        assert 0 in _strides(args, "y_view")


def _strides(args: dict[str, Any], operand: str) -> list[int]:
    """The strides passed for an operand (`x_s0`, ..., or a host view's `y_view_1_s0`)."""
    return [v for k, v in args.items() if re.fullmatch(rf"{operand}(_\d+)?_s\d+", k)]


def test_a_narrow_product_is_not_copied(tmp_path: Path) -> None:
    """Below ALIGN_MIN_REUSE columns (the default, 1024) the operands are read as given."""
    source = task("x @ y", inputs="torch.randn(20, 37), torch.randn(37, 24)", args="x, y")
    args = first_launch_arguments(render_with(source, SMALL), source, tmp_path)
    assert (args["x_s0"], args["y_s0"]) == (37, 24)
