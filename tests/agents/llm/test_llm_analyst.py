"""The Conductor's LLM analysis of a failure, against a real scripted server."""

from __future__ import annotations

import pytest

from agents.llm.analyst import analyse_failure
from agents.llm.client import LLMUnavailable
from agents.llm.prompts import PromptLibrary
from agents.llm.settings import MissingApiKey, RoleSettings
from agents.types import AgentRequest, Attempt, Target
from tests.support.openai_server import ScriptedOpenAIServer, Step

REQUEST = AgentRequest(
    op_name="softmax",
    reference_source="import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
    "        return x.softmax(-1)\n",
    framework="torch",
    target=Target("cuda", "a100"),
    task_type="precision_only",
    step=4,
    design="one row per program",
    previous_code="import torch\n",
    feedback={"passed": False, "stage": "mismatch", "message": "max abs err 0.9"},
    history=(Attempt(2, False, "mismatch", "err 0.8"), Attempt(3, False, "mismatch", "err 0.9")),
)


def settings(server: ScriptedOpenAIServer, **changes: object) -> RoleSettings:
    fields: dict[str, object] = {
        "provider": "openai",
        "model": "judge",
        "base_url": server.base_url,
        "timeout_s": 1.0,
        "max_retries": 0,
    }
    fields.update(changes)
    return RoleSettings.model_validate(fields)


async def test_json_decision(openai_server, sink) -> None:
    openai_server.push(
        Step.reply('```json\n{"action": "fix_design", "reason": "same mismatch twice"}\n```')
    )
    decision = await analyse_failure(settings(openai_server), PromptLibrary(), sink, REQUEST)
    assert decision == ("fix_design", "same mismatch twice")
    body = openai_server.requests[0].body
    assert body["messages"] == PromptLibrary().conductor(REQUEST)
    assert sink.of("requested")[0][1] == "conductor"


@pytest.mark.parametrize(
    ("step", "words"),
    [
        (Step.reply("I am not sure."), "unreadable"),
        (Step.reply('{"action": "retry", "reason": "?"}'), "unreadable"),
        (Step.error(400), "unavailable"),
    ],
    ids=["prose", "bad-action", "client-error"],
)
async def test_bad_replies_fall_back_to_fix_code(openai_server, sink, step, words) -> None:
    openai_server.push(step)
    action, reason = await analyse_failure(settings(openai_server), PromptLibrary(), sink, REQUEST)
    assert action == "fix_code" and words in reason


async def test_an_outage_is_not_swallowed(openai_server, sink) -> None:
    openai_server.push(Step.error(503))  # the task is interrupted, to resume later
    with pytest.raises(LLMUnavailable, match="HTTP 503"):
        await analyse_failure(settings(openai_server), PromptLibrary(), sink, REQUEST)


async def test_missing_key_is_not_swallowed(openai_server, sink) -> None:
    role = settings(openai_server, api_key_env="AIKG_TEST_UNSET_KEY")
    with pytest.raises(MissingApiKey):
        await analyse_failure(role, PromptLibrary(), sink, REQUEST)
