"""`aikg export --as op`: the op module matches the reference eagerly and under
torch.compile, passes opcheck, falls back outside its envelope, and `aikg verify` takes it."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest
import torch

from tests.export.conftest import VerifiedTask
from verifier.op_module import other_reference


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def op_file(verified_task: VerifiedTask) -> Path:
    path = verified_task.directory / "ops" / "bias_relu_op.py"
    done = verified_task.aikg(
        "export", verified_task.task_id, "--as", "op", "-o", str(path), "--namespace", "t_op"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(path)
    return path


@pytest.fixture(scope="module")
def ops(op_file: Path) -> ModuleType:
    return _import(op_file, "bias_relu_op")


@pytest.fixture(scope="module")
def reference(verified_task: VerifiedTask) -> torch.nn.Module:
    """The task's Model, built as the verifier builds it (seed 0)."""
    task = _import(verified_task.task_file, "bias_relu_task")
    torch.manual_seed(0)
    return task.Model(*task.get_init_inputs())


def test_header_names_the_task_reference_and_envelope(
    op_file: Path, verified_task: VerifiedTask
) -> None:
    text = op_file.read_text()
    digest = hashlib.sha256(verified_task.task_file.read_bytes()).hexdigest()
    assert text.startswith("# aikg op module: t_op::bias_relu")
    assert f"# task:              {verified_task.task_id} (op bias_relu, step 1)" in text
    assert f"# reference sha256:  {digest}" in text
    assert "# verified shapes:   trials: x float32 [8, 32] -> float32 [8, 32]" in text
    assert "get_input_variants()[0]: x float32 [3, 32] -> float32 [3, 32]" in text
    assert "# envelope:          x float32 [3..8x32] contiguous on cpu" in text


def test_matches_the_reference_eagerly_compiled_and_exported(
    ops: ModuleType, reference: torch.nn.Module
) -> None:
    # aot_eager: dynamo must capture the op in one graph (fullgraph), and AOTAutograd runs
    # its fake implementation; inductor would add a C++ build of a minute on the CPU runner.
    compiled = torch.compile(lambda x: ops.bias_relu(x) * 3.0, fullgraph=True, backend="aot_eager")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside the envelope: the kernel, no fallback
        for rows in (3, 5, 8):
            x = torch.randn(rows, 32)
            expected = reference(x)
            torch.testing.assert_close(ops.bias_relu(x), expected)
            torch.testing.assert_close(compiled(x), expected * 3.0)
    exported = torch.export.export(ops.BiasRelu(32), (torch.randn(4, 32),))
    assert "torch.ops.t_op.bias_relu.default" in exported.graph_module.code


def test_opcheck_and_compiled_autograd_through_the_reference(
    ops: ModuleType, reference: torch.nn.Module
) -> None:
    bias = reference.bias.detach().clone().requires_grad_()
    x = torch.randn(4, 32, requires_grad=True)
    torch.library.opcheck(torch.ops.t_op.bias_relu.default, (x, bias))
    model = ops.BiasRelu(32)
    model.load_state_dict(reference.state_dict())
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    compiled(x).pow(2).sum().backward()  # the registered backward, traced by AOTAutograd
    x_ref = x.detach().clone().requires_grad_()
    reference.zero_grad()
    reference(x_ref).pow(2).sum().backward()
    assert x.grad is not None and model.bias.grad is not None
    torch.testing.assert_close(x.grad, x_ref.grad)
    torch.testing.assert_close(model.bias.grad, reference.bias.grad)


def test_outside_the_envelope_the_reference_answers_with_one_warning(
    ops: ModuleType, reference: torch.nn.Module
) -> None:
    outside = {
        "float64": torch.randn(4, 32, dtype=torch.float64),
        "strided": torch.randn(32, 4).t(),
        "rank 3": torch.randn(2, 4, 32),
        "rows 9": torch.randn(9, 32),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x in outside.values():
            torch.testing.assert_close(ops.bias_relu(x), reference(x))
        other = ops.BiasRelu(16)  # other init inputs: another model than the verified one
        x = torch.randn(4, 16)
        torch.testing.assert_close(other(x), torch.relu(x + other.bias) * 2.0)
    messages = [str(w.message) for w in caught if "t_op::bias_relu" in str(w.message)]
    assert messages == [
        "aikg op t_op::bias_relu: x has dtype float64, verified float32; running the "
        "reference instead of the kernel (warned once)"
    ]


def test_aikg_verify_checks_the_kernel_an_op_module_carries(
    op_file: Path, verified_task: VerifiedTask
) -> None:
    assert other_reference(op_file.read_text(), verified_task.task_file.read_text()) is None
    edited_reference = verified_task.directory / "bias_relu_edited.py"
    edited_reference.write_text(verified_task.task_file.read_text() + "# edited\n")
    done = verified_task.aikg("verify", str(edited_reference), str(op_file), "--trials", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("PASSED")
    assert f"{op_file} was exported from another reference (sha256 " in done.stderr
    edited = op_file.with_name("edited.py")
    edited.write_text(op_file.read_text().replace("# ---- aikg: end of the verified", "# --"))
    done = verified_task.aikg("verify", str(verified_task.task_file), str(edited))
    assert done.returncode == 2
    assert "without its candidate markers" in done.stderr


def test_bad_flags_and_unknown_task_are_bad_input(verified_task: VerifiedTask) -> None:
    done = verified_task.aikg("export", verified_task.task_id, "--as", "op", "--namespace", "a-b")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "aikg: error: --namespace 'a-b' is not a valid op namespace: pass letters, digits "
        "and underscores, e.g. --namespace my_ops",
    )
    done = verified_task.aikg("export", verified_task.task_id, "--as", "op", "--reference")
    assert done.returncode == 2 and "pass one of them" in done.stderr
    done = verified_task.aikg("export", "no-such-task", "--as", "op")
    assert done.returncode == 2 and "no task 'no-such-task'" in done.stderr
