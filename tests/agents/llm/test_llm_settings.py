"""Per-role LLM settings, presets, CLI overrides and keys read at call time."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from agents.llm.settings import (
    NO_KEY_PLACEHOLDER,
    PRESETS,
    LLMSettings,
    MissingApiKey,
    RoleSettings,
    apply_cli_overrides,
)


def test_defaults_are_builtin() -> None:
    settings = LLMSettings()
    assert {settings.role(r).provider for r in ("designer", "coder", "conductor")} == {"builtin"}


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("vllm", "http://127.0.0.1:8000/v1"),
        ("sglang", "http://127.0.0.1:30000/v1"),
        ("ollama", "http://127.0.0.1:11434/v1"),
        ("deepseek", "https://api.deepseek.com/v1"),
        ("openai", "https://api.openai.com/v1"),
    ],
)
def test_presets(name: str, url: str) -> None:
    role = RoleSettings.model_validate({"preset": name})
    assert (role.provider, role.base_url) == ("openai", url)
    assert name in PRESETS


def test_yaml_with_shared_preset_and_role_overrides() -> None:
    text = """
preset: deepseek
coder: {temperature: 0.0, max_tokens: 4096}
conductor: ollama
"""
    settings = LLMSettings.model_validate(yaml.safe_load(text))
    assert settings.designer.model == "deepseek-chat"
    assert (settings.coder.model, settings.coder.request.temperature) == ("deepseek-chat", 0.0)
    assert settings.conductor.base_url == "http://127.0.0.1:11434/v1"


def test_unknown_fields_and_presets_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        RoleSettings.model_validate({"provider": "openai", "model": "m", "api_key": "sk-1"})
    with pytest.raises(ValidationError, match="unknown LLM preset 'gpt'"):
        RoleSettings.model_validate({"preset": "gpt"})
    with pytest.raises(ValidationError, match="needs a model"):
        RoleSettings(provider="openai")


def test_cli_overrides_all_roles_and_keep_limits() -> None:
    base = LLMSettings.model_validate({"coder": {"temperature": 0.7, "max_tokens": 100}})
    out = apply_cli_overrides(
        base, llm="vllm", base_url="http://10.0.0.5:8000/v1", model="qwen", api_key_env="VLLM_KEY"
    )
    for role in ("designer", "coder", "conductor"):
        r = out.role(role)
        assert (r.provider, r.base_url, r.model, r.api_key_env) == (
            "openai",
            "http://10.0.0.5:8000/v1",
            "qwen",
            "VLLM_KEY",
        )
    assert (out.coder.request.temperature, out.coder.request.max_tokens) == (0.7, 100)


def test_cli_base_url_alone_switches_builtin_to_openai() -> None:
    out = apply_cli_overrides(LLMSettings(), base_url="http://127.0.0.1:9/v1", model="m")
    assert out.coder.provider == "openai"
    replay = apply_cli_overrides(out, llm="replay")
    assert (replay.coder.provider, replay.coder.base_url) == ("replay", None)


def test_key_read_from_environment_at_call_time_only() -> None:
    role = RoleSettings.model_validate({"preset": "openai"})
    assert role.api_key("coder", {"OPENAI_API_KEY": "sk-live"}) == "sk-live"
    assert "sk-live" not in role.model_dump_json()
    with pytest.raises(MissingApiKey) as info:
        role.api_key("coder", {})
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and "\n" not in message
    assert RoleSettings.model_validate({"preset": "vllm"}).api_key("coder", {}) == (
        NO_KEY_PLACEHOLDER
    )


def test_cost_from_prices() -> None:
    role = RoleSettings(price_input_per_mtok=2.0, price_output_per_mtok=8.0)
    assert role.cost_usd(1_000_000, 500_000) == pytest.approx(6.0)


def test_config_dump_with_preset_and_nulls() -> None:
    role = RoleSettings.model_validate({"preset": "deepseek", "model": None, "temperature": 0.0})
    assert (role.model, role.request.temperature) == ("deepseek-chat", 0.0)
    assert RoleSettings.model_validate({"preset": None, "provider": "builtin"}).provider == (
        "builtin"
    )
