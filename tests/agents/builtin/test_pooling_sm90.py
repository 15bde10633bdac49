"""A 1-D pool's kernel compiled for an H100/H200 (sm_90) without a GPU, specialised on the
arguments of the agent's own launch at KernelBench 44's size (64 x 128 x 65536, window 8,
padding 4): the row tile's last-dim index needs no division, only the row's split into
batch and channel does (16 integer divisions and remainders in the PTX with the flat index),
and the window's loads bounded in the input row rather than by the odd output row (65537)
load 16 bytes at shifts by multiples of 4 and 8 at the others that are even (64 4-byte
loads per thread before, 44 loads now)."""

from __future__ import annotations

from pathlib import Path

import pytest
import triton

from tests.agents.builtin.builtin_harness import first_launch_arguments, generate, task
from tests.agents.builtin.sm90_compile import compile_in_subprocess

POOL_1D = task("F.avg_pool1d(x, 8, stride=1, padding=4)", inputs="torch.rand(64, 128, 65536)")


def test_a_1d_pool_divides_only_to_split_its_rows_and_loads_wide(tmp_path: Path) -> None:
    if not Path(triton.__file__).parent.joinpath("backends/nvidia/bin/ptxas").exists():
        pytest.skip("this Triton wheel carries no ptxas")
    code = generate(POOL_1D).code
    launch = first_launch_arguments(code, POOL_1D, tmp_path, run=False)
    assert (launch["BLOCK_ROWS"], launch["BLOCK_COLS"]) == (1, 1024)
    constexprs = {k: v for k, v in launch.items() if k.isupper()}
    integers = {k: v for k, v in launch.items() if type(v) is int and not k.isupper()}
    candidate = tmp_path / "sm90_candidate.py"
    candidate.write_text(code)
    (record,) = compile_in_subprocess(candidate, ["op_kernel"], constexprs, tmp_path, integers)
    # the row's split, rows // n1 (its remainder is a multiply-subtract): 16 in the flat
    # index's kernel, two per element of its 8
    assert record["divisions"] <= 2, record
    # 8 outputs a thread, 8 taps: with Triton 3.9 the taps at shifts -4 and 0 take 4
    # 16-byte loads, -2 and 2 8 8-byte ones, the other four 32 4-byte ones
    widths = record["load_widths"]
    assert "16" in widths and sum(widths.values()) < 64, record
