"""Per-role request parameters: what reaches the wire, presets, and config errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from agents.llm.client import LLMCallFailed, OpenAIChat
from agents.llm.request import REQUEST_PRESETS, RequestParams
from agents.llm.settings import LLMSettings, RoleSettings, apply_cli_overrides
from aikg.commands import UsageError
from aikg.commands.common import with_llm_flags
from aikg.config import ConfigError, load_config
from tests.support.openai_server import ScriptedOpenAIServer, Step

MESSAGES = [{"role": "user", "content": "write the kernel"}]
REFUSAL = "Unsupported parameter: 'temperature' is not supported with this model."


def role(server: ScriptedOpenAIServer, request: Any) -> RoleSettings:
    return RoleSettings.model_validate(
        {
            "provider": "openai",
            "model": "scripted-reasoner",
            "base_url": server.base_url,
            "max_retries": 0,
            "request": request,
        }
    )


async def sent_body(request: Any, sink: Any) -> dict[str, Any]:
    with ScriptedOpenAIServer([Step.reply("ok")]) as server:
        await OpenAIChat(role(server, request), sink).complete("coder", MESSAGES)
        (sent,) = server.requests
    return {k: v for k, v in sent.body.items() if k not in ("model", "messages")}


async def test_default_request_is_the_chat_completions_set(sink) -> None:
    assert await sent_body({}, sink) == {
        "temperature": 0.2,
        "max_tokens": 8192,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_reasoning_preset_sends_completion_limit_and_effort_only(sink) -> None:
    body = await sent_body({"preset": "openai-reasoning", "reasoning_effort": "high"}, sink)
    assert body == {
        "max_completion_tokens": 32768,
        "reasoning_effort": "high",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_minimal_preset_and_extra_body(sink) -> None:
    body = await sent_body({"preset": "minimal", "extra_body": {"top_k": 20}}, sink)
    assert body == {"top_k": 20}
    vllm = await sent_body({"preset": "vllm", "temperature": None}, sink)
    assert vllm == {
        "top_p": 0.95,
        "max_tokens": 8192,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def refuse_temperature(body: dict[str, Any]) -> Step:
    return Step.error(400, text=REFUSAL) if "temperature" in body else Step.reply("fine")


async def test_a_server_refusing_temperature_and_the_preset_that_avoids_it(sink) -> None:
    with ScriptedOpenAIServer(responder=refuse_temperature) as server:
        with pytest.raises(LLMCallFailed) as info:
            await OpenAIChat(role(server, "openai"), sink).complete("coder", MESSAGES)
        message = str(info.value)
        assert "HTTP 400" in message and "'temperature'" in message
        assert "request: {temperature: null}" in message and "\n" not in message
        assert len(server.requests) == 1  # a 400 is not retried

        reply = await OpenAIChat(role(server, "openai-reasoning"), sink).complete("coder", MESSAGES)
        assert reply.text == "fine"
        assert "temperature" not in server.requests[-1].body


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aikg.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("request_yaml", "named"),
    [
        ("{temprature: 0.1}", "unknown key 'agents.coder.request.temprature'"),
        ("{temperature: hot}", "'agents.coder.request.temperature'"),
        ("{max_tokens: 100, max_completion_tokens: 100}", "not both"),
        ("{extra_body: {temperature: 1}}", "use the request field of that name"),
        ("gpt-strict", "unknown request preset 'gpt-strict': choose one of openai"),
    ],
)
def test_bad_request_config_is_one_line_naming_the_key(
    tmp_path: Path, request_yaml: str, named: str
) -> None:
    path = write_config(tmp_path, f"agents:\n  coder:\n    request: {request_yaml}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert named in str(info.value) and "\n" not in str(info.value)


def test_config_presets_per_role_and_older_role_fields(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "agents:\n"
        "  designer: {preset: openai, model: o3, request: openai-reasoning}\n"
        "  coder: {preset: vllm, temperature: 0.0, request: {preset: vllm, top_p: 0.8}}\n",
    )
    agents = load_config(path).agents
    assert agents.designer.request == RequestParams.model_validate("openai-reasoning")
    assert (agents.coder.request.temperature, agents.coder.request.top_p) == (0.0, 0.8)
    assert agents.conductor.request == RequestParams()
    assert set(REQUEST_PRESETS) >= {"openai", "openai-reasoning", "vllm", "sglang", "ollama"}


def test_cli_request_preset_replaces_every_roles_request() -> None:
    base = LLMSettings.model_validate({"coder": {"request": {"temperature": 0.7}}})
    out = apply_cli_overrides(base, llm="openai", request="openai-reasoning")
    assert {out.role(r).request.temperature for r in ("designer", "coder", "conductor")} == {None}
    assert out.coder.request.max_completion_tokens == 32768


def test_unknown_request_preset_flag_is_a_usage_error() -> None:
    args = argparse.Namespace(llm="openai", llm_model="m", llm_request="o3-style")
    with pytest.raises(UsageError, match="--llm-request o3-style: choose one of openai, "):
        with_llm_flags(load_config(), args)
    chosen = with_llm_flags(load_config(), argparse.Namespace(llm_request="minimal"))
    assert chosen.agents.coder.request == RequestParams.model_validate("minimal")
