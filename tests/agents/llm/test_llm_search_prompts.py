"""Under search, the parent, its feedback and breakdown, inspirations and the speed-of-light
figures reach the request body the scripted server receives."""

from __future__ import annotations

from dataclasses import replace

from agents.llm.client import OpenAIChat
from agents.llm.prompts import PromptLibrary
from agents.llm.provider import LLMProvider
from agents.llm.settings import RoleSettings
from agents.types import AgentRequest, Inspiration, SpeedOfLight, Target
from tests.support.openai_server import ScriptedOpenAIServer, Step

REFERENCE = """import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
"""
PARENT_CODE = "PARENT_KERNEL = 'one row per program'"
CODE_REPLY = "```python\nclass ModelNew:\n    pass\n```\n"

SEARCH_REQUEST = AgentRequest(
    op_name="softmax",
    reference_source=REFERENCE,
    framework="torch",
    target=Target("cuda", "h100"),
    task_type="profile",
    step=4,
    previous_code=PARENT_CODE,
    feedback={
        "passed": True,
        "stage": None,
        "message": "PARENT-FEEDBACK verified on 3 input sets",
        "timings": {"candidate": {"median_ms": 0.05, "spread_ms": 0.001}},
    },
    node_id="n7",
    parent_id="n3",
    inspirations=(
        Inspiration(
            "n5", "BEST_OTHER_BRANCH = 'online softmax'", True, "1.42x vs torch.compile", 0.031
        ),
        Inspiration("n6", "FAILED_ATTEMPT = 'tl.dot on 1-D'", False, "compile: tl.dot needs 2-D"),
    ),
    speed_of_light=SpeedOfLight(
        bytes_moved=2 * 4096 * 4096 * 4,
        flops=5 * 4096 * 4096,
        dtype="float32",
        bound_ms=0.04,
        basis="memory",
    ),
    breakdown={"compile_s": 1.25, "trials_s": 0.5, "gpu_busy_fraction": None},
)


def chat(server: ScriptedOpenAIServer, sink: object) -> LLMProvider:
    settings = RoleSettings(provider="openai", model="scripted", base_url=server.base_url)
    return LLMProvider(OpenAIChat(settings, sink), PromptLibrary(), "openai:scripted")  # type: ignore[arg-type]


async def test_coder_and_designer_prompts_carry_the_search_context(sink) -> None:
    with ScriptedOpenAIServer(
        [Step.reply(CODE_REPLY), Step.reply("Use an online softmax.")]
    ) as server:
        provider = chat(server, sink)
        await provider.code(SEARCH_REQUEST)
        await provider.design(SEARCH_REQUEST)
        coder_body, designer_body = (r.body for r in server.requests)
    for body in (coder_body, designer_body):
        user = body["messages"][-1]["content"]
        for needle in (
            "Parent candidate (node n3)",
            PARENT_CODE,
            "PARENT-FEEDBACK verified on 3 input sets",
            "- compile_s: 1.25",
            "- trials_s: 0.5",
            "Node n5: verified, 1.42x vs torch.compile, 0.031 ms",
            "BEST_OTHER_BRANCH = 'online softmax'",
            "Node n6: failed, compile: tl.dot needs 2-D",
            "FAILED_ATTEMPT = 'tl.dot on 1-D'",
            "134217728 bytes",
            "No kernel can beat 0.04 ms on this device (memory-bound",
            "The parent runs in 0.05 ms: 80% of speed of light.",
        ):
            assert needle in user, needle
        assert "gpu_busy_fraction" not in user  # a value the verifier did not measure


def test_unknown_rates_and_a_linear_run_render_without_search_sections() -> None:
    prompts = PromptLibrary()
    unknown = replace(
        SEARCH_REQUEST, speed_of_light=replace(SEARCH_REQUEST.speed_of_light, bound_ms=None)
    )  # type: ignore[arg-type]
    text = prompts.coder(unknown)[1]["content"]
    assert "rates are unknown here" in text and "No kernel can beat" not in text
    linear = replace(
        SEARCH_REQUEST,
        node_id=None,
        parent_id=None,
        inspirations=(),
        speed_of_light=None,
        breakdown=None,
    )
    text = prompts.coder(linear)[1]["content"]
    assert "## Previous candidate" in text and PARENT_CODE in text
    for heading in ("Speed of light", "Other candidates", "Where the parent's time went"):
        assert heading not in text
