"""An endpoint that is down, or that accepts and never answers: an outage, reported as such.

The real client against a real socket: a port nobody listens on, and the scripted server
holding its reply back.
"""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from agents.llm.client import LLMUnavailable, OpenAIChat
from agents.llm.settings import RoleSettings
from aikg.config import ConfigError, load_config
from tests.support.openai_server import ScriptedOpenAIServer, Step

MESSAGES = [{"role": "user", "content": "write a kernel"}]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def role(base_url: str, **changes: object) -> RoleSettings:
    fields: dict[str, object] = {
        "provider": "openai",
        "model": "scripted",
        "base_url": base_url,
        "timeout_s": 5.0,
        "max_retries": 2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.02,
    }
    return RoleSettings.model_validate({**fields, **changes})


async def test_refused_connection_is_an_outage_naming_endpoint_and_tries(sink) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(LLMUnavailable) as info:
        await OpenAIChat(role(url), sink).complete("coder", MESSAGES)
    outage = info.value
    assert outage.endpoint == url and outage.attempts == 3 and outage.reason == "llm_unavailable"
    assert str(outage).startswith(f"the LLM endpoint {url} did not answer: 3 attempts over")
    assert "the last: connection failed" in str(outage)
    assert [a[1] for a in sink.of("retried")] == [1, 2]
    assert sink.of("failed") == [(outage.call_id, str(outage))]


async def test_an_endpoint_that_never_answers_reports_waiting_then_gives_up(sink) -> None:
    with ScriptedOpenAIServer([Step.delay(3.0)] * 2) as server:
        settings = role(server.base_url, timeout_s=1.0, max_retries=1, waiting_report_s=0.3)
        with pytest.raises(LLMUnavailable, match=r"no reply within 1 s \(timeout_s\)"):
            await OpenAIChat(settings, sink).complete("coder", MESSAGES)
    waits = sink.of("waiting")
    assert len(waits) >= 4  # about three per attempt of 1 s
    assert all(endpoint == server.base_url and waited >= 0.3 for _, endpoint, waited in waits)


async def test_a_reply_that_trickles_past_the_total_timeout_is_cut(sink) -> None:
    trickle = Step.reply("x" * 40, chunk_chars=2, chunk_delay_s=0.1)  # 2 s in all
    with ScriptedOpenAIServer([trickle]) as server:
        settings = role(server.base_url, total_timeout_s=0.5, max_retries=0, waiting_report_s=0.2)
        with pytest.raises(LLMUnavailable, match=r"within 0.5 s \(total_timeout_s\)"):
            await OpenAIChat(settings, sink).complete("coder", MESSAGES)
    assert not sink.of("waiting")  # bytes kept coming: never silent for 0.2 s


@pytest.mark.parametrize("key", ["connect_timeout_s", "timeout_s", "total_timeout_s"])
def test_timeouts_are_validated_config_keys(key: str) -> None:
    with pytest.raises(ValidationError):
        role("http://127.0.0.1:1/v1", **{key: 0})
    with pytest.raises(ConfigError, match=f"'agents.coder.{key}'.*greater than 0"):
        load_config(overrides={"agents": {"coder": {key: -1}}})
