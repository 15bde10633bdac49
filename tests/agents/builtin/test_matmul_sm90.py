"""The fp32 matmul kernel compiled for an H100/H200 (sm_90) without a GPU, specialised on the
arguments of the agent's own launch at KernelBench 8's ragged sizes (8205 x 2949 by 2949 x
5921): with the aligned operand copies its pipelined loads are 16-byte copies, without them
(rows of 2949 and 5921 floats) 4-byte ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import triton

from agents.builtin.reference import trace_reference
from agents.builtin.search import MATMUL_FP32_CONFIGS
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import first_launch_arguments, task
from tests.agents.builtin.sm90_compile import compile_in_subprocess

RAGGED = task(
    "torch.matmul(x, y)", inputs="torch.rand(8205, 2949), torch.rand(2949, 5921)", args="x, y"
)


@pytest.mark.parametrize(
    ("keys", "widths"),
    [({}, {"16"}), ({"ALIGN_MIN_REUSE": 1 << 62}, {"4"})],
    ids=["aligned_copies", "operands_as_given"],
)
def test_a_ragged_product_loads_in_16_byte_copies(
    keys: dict, widths: set[str], tmp_path: Path
) -> None:
    if not Path(triton.__file__).parent.joinpath("backends/nvidia/bin/ptxas").exists():
        pytest.skip("this Triton wheel carries no ptxas")
    lowered = lower_graph(trace_reference(RAGGED, "torch"))
    code = lowered.render("op", {**MATMUL_FP32_CONFIGS[0], **keys}, False)  # tf32x3
    launch = first_launch_arguments(code, RAGGED, tmp_path, run=False)
    assert launch["EVEN_K"] is False and launch["SPLIT"] is False
    constexprs = {k: v for k, v in launch.items() if k.isupper()}
    integers = {k: v for k, v in launch.items() if type(v) is int and not k.isupper()}
    candidate = tmp_path / "sm90_candidate.py"
    candidate.write_text(code)
    cache = tmp_path / "cache"
    (record,) = compile_in_subprocess(candidate, ["op_kernel"], constexprs, cache, integers)
    assert record["async_copies"] > 0 and set(record["copy_widths"]) == widths, record
