"""Replaying recorded LLM calls: same results, no HTTP, a clear error on divergence."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from agents.llm.analyst import analyse_failure_with
from agents.llm.prompts import PromptLibrary
from agents.llm.provider import OpenAIProvider
from agents.llm.settings import RoleSettings
from agents.replay import ReplayDiverged, ReplayProvider
from agents.types import AgentError, AgentRequest, Target
from tests.support.openai_server import ScriptedOpenAIServer, Step

MODULE = """import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x
"""

REQUEST = AgentRequest(
    op_name="identity",
    reference_source="import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
    "        return x\n",
    framework="torch",
    target=Target("cpu", "cpu"),
    task_type="precision_only",
    step=1,
)


def recording(sink: Any) -> list[dict[str, Any]]:
    """What the machine keeps from `llm.requested` + `llm.responded` events."""
    asked = {call_id: (role, messages) for call_id, role, _, messages in sink.of("requested")}
    return [
        {"role": asked[call_id][0], "messages": asked[call_id][1], "reply": text, "usage": usage}
        for call_id, text, usage, _, _ in sink.of("responded")
    ]


async def live_run(sink: Any) -> tuple[str, str, list[dict[str, Any]]]:
    with ScriptedOpenAIServer(
        [Step.reply("One pass over x."), Step.reply(f"```python\n{MODULE}```")]
    ) as server:
        settings = RoleSettings(
            provider="openai", model="m", base_url=server.base_url, timeout_s=2.0
        )
        live = OpenAIProvider(settings, PromptLibrary(), sink)
        design = await live.design(REQUEST)
        candidate = await live.code(replace(REQUEST, design=design.text))
        assert len(server.requests) == 2
    return design.text, candidate.code, recording(sink)


async def test_replay_reaches_the_same_result_without_http(sink) -> None:
    design_text, code, recorded = await live_run(sink)
    replay = ReplayProvider(recorded)
    design = await replay.design(REQUEST)
    candidate = await replay.code(replace(REQUEST, design=design.text))
    assert (design.text, candidate.code) == (design_text, code)
    assert replay.backend.remaining == 0
    assert replay.name == "replay"


async def test_diverging_prompt_is_refused_with_a_hint(sink) -> None:
    _, _, recorded = await live_run(sink)
    replay = ReplayProvider(recorded)
    await replay.design(REQUEST)
    with pytest.raises(ReplayDiverged) as info:
        await replay.code(replace(REQUEST, design="Two passes over x."))
    message = str(info.value)
    assert "call 2 (coder)" in message
    assert "-One pass over x." in message and "+Two passes over x." in message
    assert isinstance(info.value, AgentError) and info.value.reason == "replay_diverged"


async def test_wrong_role_and_exhausted_recording(sink) -> None:
    _, _, recorded = await live_run(sink)
    with pytest.raises(ReplayDiverged, match="asked the coder, the recording has the designer"):
        await ReplayProvider(recorded).code(REQUEST)
    replay = ReplayProvider(recorded[:1])
    await replay.design(REQUEST)
    with pytest.raises(ReplayDiverged, match="has only 1 calls"):
        await replay.code(REQUEST)


async def test_replay_reports_to_the_sink(sink) -> None:
    _, _, recorded = await live_run(sink)
    sink.events.clear()
    replay = ReplayProvider(recorded, sink=sink)
    design = await replay.design(REQUEST)
    assert [kind for kind, _ in sink.events] == ["requested", "responded"]
    assert design.notes["call_id"] == sink.of("requested")[0][0]


async def test_conductor_replays_through_the_backend() -> None:
    messages = PromptLibrary().conductor(REQUEST)
    reply = '{"action": "fix_design", "reason": "tiling is wrong"}'
    replay = ReplayProvider([{"role": "conductor", "messages": messages, "reply": reply}])
    assert await analyse_failure_with(replay.backend, replay.prompts, REQUEST) == (
        "fix_design",
        "tiling is wrong",
    )


def test_malformed_recording_is_refused() -> None:
    with pytest.raises(ValueError, match="recorded call 1 lacks messages"):
        ReplayProvider([{"role": "coder", "reply": "x"}])
