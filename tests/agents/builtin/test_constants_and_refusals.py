"""Modules holding constants, eval-mode statistics and dropout; and references the agent
cannot lower, refused with the exact op or reason instead of a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.types import Unsupported
from tests.agents.builtin.builtin_harness import check, generate, task

TASKS = Path(__file__).parent / "tasks"


def _task(name: str) -> str:
    return (TASKS / f"{name}.py").read_text()


def _refusal(source: str) -> Unsupported:
    with pytest.raises(Unsupported) as info:
        generate(source)
    assert "--llm openai" in str(info.value)
    return info.value


def test_tensor_attribute_is_a_kernel_input_the_candidate_holds_as_a_buffer(
    tmp_path: Path,
) -> None:
    code = check(_task("tensor_attribute_scale"), tmp_path)
    assert "self.scale = torch.rand(features) + 0.5" in code
    assert "del self.scale" in code
    assert 'self.register_buffer("scale", attribute, persistent=False)' in code


def test_tensor_attribute_the_candidate_cannot_rebuild_is_refused_by_name() -> None:
    source = task(
        "x * self.scale",
        body="self.scale = make_scale()",
    ).replace("class Model", "def make_scale():\n    return torch.ones(33)\n\n\nclass Model")
    error = _refusal(source)
    assert error.ops == ["<attribute>"]
    assert "self.scale" in str(error) and "register_buffer" in str(error)


def test_zero_dim_constants_made_in_forward_become_literals(tmp_path: Path) -> None:
    check(_task("scalar_constant"), tmp_path)


def test_constant_on_the_inputs_device_is_named_not_a_crash() -> None:
    error = _refusal(_task("device_constant"))
    assert "<constant: a 3 tensor made in forward" in str(error) and "buffer in __init__" in str(
        error
    )


def test_cpu_constant_mixed_with_inputs_is_refused_with_the_fix() -> None:
    error = _refusal(task("x + torch.tensor([1.0] * 33)"))
    assert "makes on the CPU" in str(error) and "buffer in __init__" in str(error)


def test_eval_batch_norm_statistics_and_dropout_fuse_into_one_kernel(tmp_path: Path) -> None:
    code = check(_task("eval_batch_norm_dropout"), tmp_path)
    assert code.count("@triton.jit") == 1 and "native_dropout" not in code


def test_training_mode_randomness_is_refused_with_the_reason() -> None:
    error = _refusal(_task("dropout_train"))
    assert error.ops == ["aten.native_dropout"]
    assert "draws random numbers" in str(error) and "eval mode" in str(error)
    assert _refusal(task("x + torch.randn_like(x)")).ops == ["aten.randn_like"]


@pytest.mark.parametrize(
    ("forward", "inputs", "reason"),
    [
        ("x[0] + x[1]", "[torch.randn(4, 33), torch.randn(4, 33)]", "one tensor each"),
        ("x.shape[0]", "torch.randn(4, 33)", "returns a non-tensor"),
        ("x * x.sum().item()", "torch.randn(4, 33)", "Tensor.item() cannot be called"),
        ("x if x.sum() > 0 else -x", "torch.randn(4, 33)", "torch cannot trace this forward"),
    ],
)
def test_what_cannot_be_traced_or_lowered_is_a_one_line_refusal(
    forward: str, inputs: str, reason: str
) -> None:
    error = _refusal(task(forward, inputs=inputs))
    assert reason in str(error) and "\n" not in str(error)


def test_a_sliced_causal_mask_buffer_is_read_through_its_index(tmp_path: Path) -> None:
    masked = "x.masked_fill(self.mask[: x.shape[1], : x.shape[2]] == 0, float('-inf'))"
    source = task(
        f"torch.softmax({masked}, -1)",
        body="self.register_buffer('mask', torch.tril(torch.ones(8, 8)))",
        inputs="torch.randn(2, 5, 5)",
    )
    check(source, tmp_path)


def test_instance_norm_with_running_statistics_is_refused_not_a_crash() -> None:
    source = task(
        "self.norm(x)",
        body="self.norm = nn.InstanceNorm2d(3, track_running_stats=True)",
        inputs="torch.randn(2, 3, 4, 5)",
    )
    assert _refusal(source).ops == ["aten.view"]
