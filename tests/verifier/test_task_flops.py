"""FLOPs for the matmul roofline come from the task file's own `flops()` when it has one."""

from __future__ import annotations

from pathlib import Path

from aikg.bench.suite import load_task_module
from verifier.timing import task_flops

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"


def test_a_linear_task_counts_its_weight_from_the_init_inputs() -> None:
    task = load_task_module(SUITE / "matmul_linear_bias_relu.py")
    inputs = task.get_small_inputs()
    # x is 32x64 at small shapes and the layer maps 64 -> 48 features
    assert task_flops(task, inputs, small=True) == 2.0 * 32 * 64 * 48


def test_tasks_without_flops_or_with_a_broken_one_give_none(tmp_path: Path) -> None:
    plain = load_task_module(SUITE / "pointwise_elu.py")
    assert task_flops(plain, plain.get_small_inputs(), small=True) is None
    broken = tmp_path / "broken.py"
    broken.write_text(
        SUITE.joinpath("matmul_fp16.py").read_text()
        + "\n\ndef flops(inputs, init_inputs):\n    raise ValueError('oops')\n"
    )
    task = load_task_module(broken)
    assert task_flops(task, task.get_small_inputs(), small=True) is None
