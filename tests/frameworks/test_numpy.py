"""`framework="numpy"`: NumPy references, torch candidates; the example end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.frameworks.conftest import TASK_FILES, aikg, event_count, event_types
from tests.frameworks.kernels import NUMPY_SCALE, SCALE_KERNEL, SOFTPLUS_KERNEL
from verifier import VerifyJob, verify_in_process
from verifier.frameworks import to_reference, to_torch

os.environ.setdefault("TRITON_INTERPRET", "1")
SOFTPLUS = TASK_FILES["numpy"].read_text()


def numpy_job(reference: str, candidate: str) -> VerifyJob:
    return VerifyJob(reference, candidate, framework="numpy", small_shapes=True, trials=2)


def test_example_verifies_with_the_builtin_agent(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    args = ["run", str(TASK_FILES["numpy"]), "--framework", "numpy", "--json", "-q"]
    proc = aikg([*args, "--task-id", "np-softplus"], tmp_path, db)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    summary = json.loads(proc.stdout)
    assert summary["success"] is True
    assert (tmp_path / summary["kernel_path"]).is_file()
    types = event_types(db, "np-softplus")
    assert types[0] == "task.created" and types[-1] == "task.finished"
    assert "verify.finished" in types and event_count(db) >= len(types)


def test_plain_class_reference_passes_and_a_wrong_kernel_does_not() -> None:
    assert verify_in_process(numpy_job(SOFTPLUS, SOFTPLUS_KERNEL)).passed
    wrong = SOFTPLUS_KERNEL.replace("/ beta\n", "\n")
    result = verify_in_process(numpy_job(SOFTPLUS, wrong))
    assert result.stage == "mismatch", result.message


def test_float64_result_is_a_dtype_mismatch() -> None:
    upcast = SOFTPLUS.replace("/ self.beta", "/ np.float64(self.beta).reshape(1)")
    result = verify_in_process(numpy_job(upcast, SOFTPLUS_KERNEL))
    assert result.stage == "mismatch"
    assert "dtype torch.float32, expected torch.float64" in result.message


def test_reference_weights_are_shared_with_the_candidate() -> None:
    result = verify_in_process(numpy_job(NUMPY_SCALE, SCALE_KERNEL))
    assert result.passed, result.message
    renamed = SCALE_KERNEL.replace("self.weight", "self.w")
    assert verify_in_process(numpy_job(NUMPY_SCALE, renamed)).stage == "mismatch"


def test_inputs_torch_cannot_hold_blame_the_task() -> None:
    objects = NUMPY_SCALE.replace(".astype(np.float32)]", ".astype(object)]")
    result = verify_in_process(numpy_job(objects, SCALE_KERNEL))
    assert result.stage == "runtime"
    assert "get_inputs() returned a NumPy array of dtype object" in result.message


def test_reference_without_forward_fails_to_load() -> None:
    result = verify_in_process(numpy_job(SOFTPLUS.replace("def forward", "def run"), ""))
    assert result.stage in ("import", "static")
    result = verify_in_process(
        numpy_job(SOFTPLUS.replace("def forward", "def run"), SOFTPLUS_KERNEL)
    )
    assert result.stage == "import"
    assert "Model defines neither forward nor __call__" in result.message


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.float16).reshape(2, 3).T,  # not contiguous
        np.broadcast_to(np.arange(3, dtype=np.int32), (2, 3)),  # read-only
        np.array([True, False]),
        np.float32(1.5),  # a NumPy scalar keeps its dtype
    ],
    ids=["transposed", "read-only", "bool", "scalar"],
)
def test_conversion_keeps_shape_dtype_and_values(array: np.ndarray) -> None:
    tensor = to_torch(array)
    assert isinstance(tensor, torch.Tensor)
    assert tuple(tensor.shape) == np.shape(array)
    assert str(tensor.dtype).removeprefix("torch.") == np.asarray(array).dtype.name
    back = to_reference(tensor, "numpy")
    assert back.dtype == np.asarray(array).dtype
    assert np.array_equal(back, array)
