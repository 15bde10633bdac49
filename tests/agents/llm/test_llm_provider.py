"""The OpenAI-compatible provider against a real scripted HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from agents.llm.client import (
    LLMCallFailed,
    LLMUnavailable,
    OpenAIChat,
    backoff_seconds,
    retry_after_seconds,
)
from agents.llm.prompts import PromptLibrary
from agents.llm.provider import OpenAIProvider, ReplyWithoutCode
from agents.llm.settings import MissingApiKey, RoleSettings
from agents.types import AgentRequest, NoCode, Target
from tests.support.openai_server import ScriptedOpenAIServer, Step

KEY = "sk-test-7f3a9c1e5b2d4f6a8c0e"
KEY_ENV = "AIKG_TEST_LLM_KEY"

MODULE = """import torch
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
        return y
"""
REPLY = f"The kernel copies in blocks of 1024.\n\n```python\n{MODULE}```\n"

REQUEST = AgentRequest(
    op_name="identity",
    reference_source="import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
    "        return x.clone()\n",
    framework="torch",
    target=Target("cpu", "cpu"),
    task_type="precision_only",
    step=1,
)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


def settings(server: ScriptedOpenAIServer, **changes: object) -> RoleSettings:
    fields: dict[str, object] = {
        "provider": "openai",
        "model": "scripted-coder",
        "base_url": server.base_url,
        "api_key_env": KEY_ENV,
        "timeout_s": 0.5,
        "max_retries": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "price_input_per_mtok": 1.0,
        "price_output_per_mtok": 2.0,
    }
    fields.update(changes)
    return RoleSettings.model_validate(fields)


def provider(server: ScriptedOpenAIServer, sink: object, **changes: object) -> OpenAIProvider:
    return OpenAIProvider(settings(server, **changes), PromptLibrary(), sink)  # type: ignore[arg-type]


async def test_streamed_reply_becomes_a_candidate(openai_server, sink) -> None:
    openai_server.push(Step.reply(REPLY, usage=(1200, 300)))
    candidate = await provider(openai_server, sink).code(REQUEST)

    assert candidate.code == MODULE
    (sent,) = openai_server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["model"] == "scripted-coder"
    assert sent.body["messages"] == PromptLibrary().coder(REQUEST)
    assert [kind for kind, _ in sink.events if kind != "partial"] == ["requested", "responded"]
    call_id, role, model, messages = sink.of("requested")[0]
    assert (role, model, messages) == ("coder", "scripted-coder", sent.body["messages"])
    _, text, usage, latency, cost = sink.of("responded")[0]
    assert text == REPLY and latency > 0
    assert usage == {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
    assert cost == pytest.approx((1200 * 1.0 + 300 * 2.0) / 1e6)
    assert candidate.notes["call_id"] == call_id


async def test_design_returns_text_and_call_id(openai_server, sink) -> None:
    openai_server.push(Step.reply("<think>hmm</think>Tile rows of 1024; one pass."))
    design = await provider(openai_server, sink).design(REQUEST)
    assert design.text == "Tile rows of 1024; one pass."
    assert design.notes["call_id"] == sink.of("requested")[0][0]
    assert sink.of("requested")[0][1] == "designer"


async def test_partials_are_throttled_prefixes(openai_server, sink) -> None:
    openai_server.push(Step.reply(REPLY, chunk_chars=16, chunk_delay_s=0.02))
    chat = OpenAIChat(settings(openai_server), sink, partial_interval_s=0.1)
    reply = await chat.complete("coder", [{"role": "user", "content": "go"}])
    partials = [text for _, text in sink.of("partial")]
    assert 2 <= len(partials) <= reply.latency_s / 0.1 + 1
    assert all(reply.text.startswith(p) for p in partials)
    assert [len(p) for p in partials] == sorted({len(p) for p in partials})


async def test_non_streaming_and_usage_estimated_when_absent(openai_server, sink) -> None:
    openai_server.push(Step.reply(REPLY, usage=None))
    candidate = await provider(openai_server, sink, stream=False).code(REQUEST)
    assert candidate.code == MODULE
    assert "stream" not in openai_server.requests[0].body
    usage = sink.of("responded")[0][2]
    assert usage["estimated"] is True and usage["completion_tokens"] == len(REPLY) // 4


async def test_rate_limit_honours_retry_after(openai_server, sink) -> None:
    openai_server.push(Step.error(429, retry_after="1"), Step.reply(REPLY))
    candidate = await provider(openai_server, sink).code(REQUEST)
    assert candidate.code == MODULE
    first, second = openai_server.requests
    assert 1.0 <= second.received_at - first.received_at < 2.5
    ((_, attempt, reason, wait),) = sink.of("retried")
    assert (attempt, wait) == (1, 1.0) and "429" in reason


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Step.error(500), "HTTP 500"),
        (Step.error(503, text="overloaded"), "HTTP 503"),
        (Step.cut(REPLY), "dropped mid-reply"),
        (Step.stall(REPLY, 1.0), "silent"),
        (Step.delay(1.0, REPLY), "timeout"),
    ],
    ids=["500", "503", "cut", "stall", "delay"],
)
async def test_fault_then_success(openai_server, sink, fault: Step, words: str) -> None:
    openai_server.push(fault, Step.reply(REPLY))
    candidate = await provider(openai_server, sink).code(REQUEST)
    assert candidate.code == MODULE
    assert len(openai_server.requests) == 2
    ((call_id, attempt, reason, wait),) = sink.of("retried")
    assert attempt == 1 and words in reason and 0 < wait <= 0.05
    assert sink.of("responded")[0][0] == call_id


async def test_retries_are_capped(openai_server, sink) -> None:
    openai_server.push(*[Step.error(500)] * 3)
    expected = f"{openai_server.base_url} did not answer: 3 attempts over .* the last: HTTP 500"
    with pytest.raises(LLMUnavailable, match=expected) as info:
        await provider(openai_server, sink, max_retries=2).code(REQUEST)
    assert len(openai_server.requests) == 3
    assert [a[1] for a in sink.of("retried")] == [1, 2]
    assert sink.of("failed") == [(info.value.call_id, str(info.value))]
    assert "\n" not in str(info.value)


async def test_client_errors_are_not_retried(openai_server, sink) -> None:
    openai_server.push(Step.error(404, text="model not found"))
    with pytest.raises(LLMCallFailed, match=r"404 for model 'scripted-coder'.*--llm-model"):
        await provider(openai_server, sink).code(REQUEST)
    assert len(openai_server.requests) == 1 and not sink.of("retried")


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("I think a tiled approach with 1024 elements per block works best.", "no code block"),
        ("```cuda\n__global__ void k(float* x) { x[threadIdx.x] = 1; }\n```", "cuda, not Python"),
        ("```cpp\n#include <vector>\nint main() { return 0; }\n```", "cpp, not Python"),
    ],
    ids=["prose", "cuda", "cpp"],
)
async def test_reply_without_usable_code(openai_server, sink, reply: str, words: str) -> None:
    openai_server.push(Step.reply(reply))
    with pytest.raises(NoCode, match=words) as info:
        await provider(openai_server, sink).code(REQUEST)
    assert isinstance(info.value, ReplyWithoutCode)
    assert info.value.call_id == sink.of("responded")[0][0]
    assert "```python" in str(info.value)


async def test_key_is_a_bearer_header_and_never_reaches_the_sink(openai_server, sink) -> None:
    openai_server.push(
        Step.error(500, text=f"upstream said {KEY}"),
        Step.reply(REPLY),
        Step.error(401, text=f"Incorrect API key provided: {KEY}"),
    )
    await provider(openai_server, sink).code(REQUEST)
    with pytest.raises(LLMCallFailed, match=f"refused the key from \\${KEY_ENV}") as info:
        await provider(openai_server, sink).code(REQUEST)
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in openai_server.requests)
    assert all(KEY not in json.dumps(r.body) for r in openai_server.requests)
    assert KEY not in repr(sink.events) and KEY not in str(info.value)
    assert KEY[:12] not in repr(sink.events)


async def test_missing_key_names_the_variable(openai_server, sink, monkeypatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(MissingApiKey, match=f"{KEY_ENV} is not set"):
        await provider(openai_server, sink).code(REQUEST)
    assert openai_server.requests == [] and sink.events == []


async def test_keyless_local_server(openai_server, sink) -> None:
    openai_server.push(Step.reply(REPLY))
    await provider(openai_server, sink, api_key_env=None).code(REQUEST)
    assert openai_server.requests[0].headers["authorization"] == "Bearer EMPTY"


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_backoff_grows_with_jitter_and_cap() -> None:
    waits = [backoff_seconds(n, 1.0, 8.0) for n in (1, 2, 3, 4, 5, 6)]
    for wait, nominal in zip(waits, (1, 2, 4, 8, 8, 8), strict=True):
        assert nominal / 2 <= wait <= nominal
