"""The provider's contract: design text, candidates, determinism, errors and the search."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from agents.builtin import BuiltinProvider, reference
from agents.builtin.provider import LOWERED_KEPT
from agents.types import Attempt, Target, Unsupported
from tests.agents.builtin.builtin_harness import check, generate, request, task

TASKS = Path(__file__).parent / "tasks"
SWISH = (TASKS / "swish.py").read_text()


def test_swish_example_verifies_and_reads_like_the_tutorial(tmp_path: Path) -> None:
    code = check(SWISH, tmp_path, "swish")
    assert "def swish_kernel(" in code
    assert "Fused into swish_kernel: mul -> sigmoid -> mul." in code
    assert "swish_kernel[grid](" in code and "triton.cdiv(n_elements, BLOCK_SIZE)" in code
    assert "def __init__(self, beta=1.0):" in code and "self.beta = beta" in code


def test_design_sketches_fusion_tiling_and_passes() -> None:
    design = asyncio.run(BuiltinProvider().design(request(SWISH, "swish")))
    assert "swish_kernel" in design.text and "BLOCK_SIZE" in design.text
    assert "single pass" in design.text
    softmax = task("torch.softmax(x, dim=1)")
    text = asyncio.run(BuiltinProvider().design(request(softmax, "softmax"))).text
    assert "One program per row" in text and "BLOCK_R" in text and "3 pass(es)" in text


def test_same_request_gives_identical_code() -> None:
    first, second = generate(SWISH, "swish"), generate(SWISH, "swish")
    assert first.code == second.code and first.notes == second.notes


def test_unsupported_op_is_named_with_the_llm_hint() -> None:
    source = task("torch.sort(x, dim=1)[0] + 1")
    with pytest.raises(Unsupported) as info:
        generate(source, "sort")
    assert info.value.ops == ["aten.sort"]
    assert "aten.sort" in str(info.value) and "--llm openai" in str(info.value)


def test_mindspore_reference_is_refused_plainly() -> None:
    source = "import mindspore\n" + SWISH
    with pytest.raises(Unsupported, match="does not lower MindSpore"):
        generate(source, "swish", framework="mindspore")


def test_broken_reference_is_a_one_line_unsupported() -> None:
    with pytest.raises(Unsupported, match="defines no `get_inputs`"):
        generate("import torch\nclass Model: pass\ndef get_init_inputs(): return []\n")


def _attempt(step: int, config: dict, ms: float) -> Attempt:
    return Attempt(step, True, None, "ok", candidate_time_ms=ms, launch_config=config)


def test_profile_mode_searches_launch_configs_from_history() -> None:
    first = generate(SWISH, "swish", task_type="profile", step=1)
    config1 = first.notes["launch_config"]
    assert f"BLOCK_SIZE = {config1['BLOCK_SIZE']}" in first.code
    history = (_attempt(1, config1, 2.0),)
    second = generate(SWISH, "swish", task_type="profile", step=2, history=history)
    config2 = second.notes["launch_config"]
    assert config2 != config1 and second.code != first.code
    # the second config was faster: the third explores next to it, not next to the first
    history += (_attempt(2, config2, 1.0),)
    third = generate(SWISH, "swish", task_type="profile", step=3, history=history)
    assert third.notes["launch_config"] not in (config1, config2)
    again = generate(SWISH, "swish", task_type="profile", step=3, history=history)
    assert again.code == third.code


def test_precision_mode_keeps_the_default_config() -> None:
    history = (_attempt(1, {"BLOCK_SIZE": 1024, "num_warps": 4}, 1.0),)
    c = generate(SWISH, "swish", step=2, history=history)
    assert c.notes["launch_config"] == {"BLOCK_SIZE": 1024, "num_warps": 4}


@pytest.mark.parametrize("name", ["numpy_sigmoid_scale", "numpy_row_sum"])
def test_numpy_reference_lowers_through_torch(name: str, tmp_path: Path) -> None:
    source = (TASKS / f"{name}.py").read_text()
    code = check(source, tmp_path, name, framework="numpy")
    assert f"def {name}_kernel(" in code


def test_numpy_function_without_torch_counterpart_is_unsupported() -> None:
    source = (TASKS / "numpy_row_sum.py").read_text().replace("np.mean(x * x,", "np.median(x,")
    with pytest.raises(Unsupported, match=r"numpy\.median"):
        generate(source, "median", framework="numpy")


def test_non_triton_target_is_unsupported() -> None:
    req = request(SWISH, "swish")
    req = dataclasses.replace(
        req, target=Target(backend="ascend", arch="ascend910b4", impl_type="swft")
    )
    with pytest.raises(Unsupported, match="Triton only"):
        asyncio.run(BuiltinProvider().code(req))


SMALL_INIT_TASK = """
import torch
import torch.nn as nn

EPS = 1e-5


class Model(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(hidden))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + self.eps) * self.weight


def get_inputs():
    return [torch.randn(64, 4096)]


def get_small_inputs():
    return [torch.randn(4, 48)]


def get_init_inputs():
    return [4096, EPS]


def get_small_init_inputs():
    return [48, EPS]
"""


def test_parameters_follow_the_constructor_arguments(tmp_path: Path) -> None:
    """Traced at full size, verified with the small init inputs: shapes are not baked in."""
    code = check(SMALL_INIT_TASK, tmp_path, "rms_norm")
    assert "self.weight = nn.Parameter(torch.randn(hidden))" in code


def test_init_that_needs_task_globals_falls_back_to_bare_parameters(tmp_path: Path) -> None:
    source = SMALL_INIT_TASK.replace("self.eps = eps", "self.eps = eps or EPS")
    source = source.replace("return [48, EPS]", "return [4096, EPS]")
    source = source.replace("torch.randn(4, 48)", "torch.randn(4, 4096)")
    code = check(source, tmp_path, "rms_norm")
    assert "self.weight = nn.Parameter(torch.empty((4096,), dtype=torch.float32))" in code


def test_a_stop_iteration_inside_the_agent_fails_the_await_instead_of_hanging() -> None:
    """A Future cannot carry StopIteration: unguarded, ``asyncio.to_thread`` never returns."""
    from agents.builtin.provider import _off_the_loop

    def exhausted(_: object) -> object:
        return next(iter(()))

    async def call() -> object:
        return await asyncio.wait_for(asyncio.to_thread(_off_the_loop, exhausted, None), 10)

    with pytest.raises(RuntimeError, match="StopIteration escaped"):
        asyncio.run(call())


def test_a_step_traces_its_reference_once() -> None:
    """Design, code and a search's second configuration share one trace and lowering; a
    reference pushed out by LOWERED_KEPT others is traced again."""
    source = task("torch.relu(x) * 0.25 - x")  # no other test traces this one
    provider = BuiltinProvider()
    before = reference.traces_started
    asyncio.run(provider.design(request(source)))
    first = asyncio.run(provider.code(request(source)))
    other = dataclasses.replace(request(source), alternative=first.notes["alternatives"][1])
    assert asyncio.run(provider.code(other)).code != first.code
    assert reference.traces_started == before + 1
    for k in range(LOWERED_KEPT):
        asyncio.run(provider.design(request(task(f"x * {k + 2}.5"))))
    assert reference.traces_started == before + 1 + LOWERED_KEPT
    asyncio.run(provider.code(request(source)))
    assert reference.traces_started == before + 2 + LOWERED_KEPT
