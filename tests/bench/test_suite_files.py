"""Every file of benchmarks/suite/ is a well-formed task: imports, runs small, sized right."""

from __future__ import annotations

from collections import Counter
from types import ModuleType

import pytest
import torch

from aikg.bench import (
    DEFAULT_SUITE_DIR,
    FAMILIES,
    FAMILY_MINIMUMS,
    discover_tasks,
    load_task_module,
    task_init_inputs,
    task_inputs,
)

TASKS = discover_tasks([DEFAULT_SUITE_DIR])
SMALL_MAX_ELEMENTS = 4096
DEFAULT_MIN_ELEMENTS = 4096 * 4096  # the largest input of a memory-bound task
MATMUL_MIN_FLOPS = 2.0 * 4096**3
MAX_INPUT_BYTES = 1 << 30


def as_tensors(out: object) -> list[torch.Tensor]:
    return [out] if isinstance(out, torch.Tensor) else list(out)  # type: ignore[call-overload]


def signature(tensors: list[torch.Tensor]) -> list[tuple[int, torch.dtype]]:
    return [(t.dim(), t.dtype) for t in tensors]


def run_small(module: ModuleType) -> tuple[torch.nn.Module, list, list[torch.Tensor]]:
    torch.manual_seed(0)
    model = module.Model(*task_init_inputs(module, small=True))
    inputs = task_inputs(module, small=True)
    with torch.no_grad():
        outputs = as_tensors(model(*inputs))
    return model, inputs, outputs


def test_suite_meets_family_minimums() -> None:
    counts = Counter(task.family for task in TASKS)
    assert len(TASKS) >= 32
    assert set(counts) <= set(FAMILIES), f"unknown families: {set(counts) - set(FAMILIES)}"
    for group, minimum in FAMILY_MINIMUMS.items():
        assert sum(counts[f] for f in group) >= minimum, f"{group} has fewer than {minimum}"


@pytest.mark.parametrize("task", TASKS, ids=[t.op_name for t in TASKS])
def test_file_is_named_and_documented(task) -> None:
    module = load_task_module(task.path)
    assert task.op_name.startswith(f"{module.FAMILY}_")
    assert task.family == module.FAMILY
    doc = (module.__doc__ or "").strip()
    assert doc and "\n" not in doc
    for name in ("get_inputs", "get_init_inputs", "get_small_inputs"):
        assert callable(getattr(module, name))
    assert issubclass(module.Model, torch.nn.Module)
    assert (module.FAMILY == "matmul") == hasattr(module, "flops")


@pytest.mark.parametrize("task", TASKS, ids=[t.op_name for t in TASKS])
def test_small_inputs_are_small_random_and_run_on_cpu(task) -> None:
    module = load_task_module(task.path)
    model, inputs, outputs = run_small(module)
    for t in [*inputs, *model.parameters()]:
        assert t.numel() <= SMALL_MAX_ELEMENTS
    for t in inputs:
        assert t.device.type == "cpu"
        assert torch.unique(t).numel() > 1, "inputs must be random, not constant"
    for out in outputs:
        assert torch.isfinite(out.float()).all()
    if task.family == "matmul":
        assert module.flops(inputs, task_init_inputs(module, small=True)) > 0


@pytest.mark.parametrize("task", TASKS, ids=[t.op_name for t in TASKS])
def test_default_inputs_fill_a_gpu_and_match_small_ranks_and_dtypes(task) -> None:
    module = load_task_module(task.path)
    _, small_inputs, small_outputs = run_small(module)
    init_inputs = task_init_inputs(module, small=False)
    # The meta device gives shapes and dtypes without allocating the default inputs.
    with torch.device("meta"):
        inputs = task_inputs(module, small=False)
        outputs = as_tensors(module.Model(*init_inputs)(*inputs))
    assert signature(inputs) == signature(small_inputs)
    assert signature(outputs) == signature(small_outputs)
    for t in inputs:
        assert t.numel() * t.element_size() < MAX_INPUT_BYTES
    if task.family == "matmul":
        assert module.flops(inputs, init_inputs) >= MATMUL_MIN_FLOPS
    else:
        assert max(t.numel() for t in inputs) >= DEFAULT_MIN_ELEMENTS
