"""The built-in agent traces the reference in its own confined process, never in aikg's.

Real subprocesses: the helper `python -m machine.builtin_worker`, the verifier's worker.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents.builtin import BuiltinProvider
from agents.types import AgentRequest, Target, Unsupported
from machine.builtin_isolation import IsolatedBuiltinProvider, builtin_agent_session
from tests.machine.test_runner import SWISH, make_task

SECRET = "AIKG_TEST_SECRET_KEY"


def guarded(source: str) -> str:
    """`source` that refuses to load in this process or where it can see the secret."""
    guard = (
        "import os\n"
        f"if os.getpid() == {os.getpid()} or os.environ.get({SECRET!r}):\n"
        "    raise RuntimeError('the reference ran in the aikg process or saw its secret')\n"
    )
    return guard + source


def request(source: str, step: int = 1) -> AgentRequest:
    return AgentRequest("swish", source, "torch", Target("cpu", "cpu"), "precision_only", step)


async def test_the_reference_never_runs_in_the_aikg_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET, "sk-must-not-leak")
    source = guarded(SWISH)
    with pytest.raises(Unsupported, match="ran in the aikg process"):  # the guard works here
        await BuiltinProvider().design(request(source))
    task = make_task(tmp_path, source=source, task_id="isolated")
    assert await task.run() is True  # designed, coded and verified elsewhere


async def test_one_warm_helper_serves_steps_and_tasks_and_errors_keep_their_type() -> None:
    async with builtin_agent_session((), "auto") as helper:  # as `aikg bench` holds it
        for _task in range(2):  # a provider per task, one after the other
            provider = IsolatedBuiltinProvider()
            design = await provider.design(request(SWISH))
            candidate = await provider.code(request(SWISH, step=2))
            fft = SWISH.replace("x * torch.sigmoid(self.beta * x)", "torch.fft.fft(x).real")
            with pytest.raises(Unsupported) as info:
                await provider.code(request(fft, step=3))
            await provider.close()
    assert helper.started == 1
    assert "pointwise" in design.notes["family"] and "@triton.jit" in candidate.code
    assert any("fft" in op for op in info.value.ops)


async def test_a_reference_that_kills_the_helper_stops_the_task(tmp_path: Path) -> None:
    source = SWISH.replace(
        "super().__init__()", "super().__init__()\n        os.kill(os.getpid(), 9)"
    ).replace("import torch\n", "import os\n\nimport torch\n", 1)
    task = make_task(tmp_path, source=source, task_id="killer", limit_steps=3)
    assert await task.run() is False
    finished = task.state.finished
    assert finished is not None and finished.reason == "agent_error" and finished.steps == 1
    assert "built-in agent's process died while tracing the reference" in finished.message
