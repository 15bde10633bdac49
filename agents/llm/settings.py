"""Per-role LLM settings, named presets, CLI overrides, and reading keys at call time.

Settings hold the *name* of the environment variable that holds an API key, never the key:
they are serialised into the config digest and the event log. `api_key()` reads the value
from the environment only when a call is about to be made.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.llm.request import RequestParams, preset_and_rest
from agents.types import AgentError

ROLES = ("designer", "coder", "conductor")

# Sent when a role names no key variable: local servers (vLLM, SGLang, Ollama) ignore it,
# and the OpenAI client refuses an empty key.
NO_KEY_PLACEHOLDER = "EMPTY"


class MissingApiKey(AgentError):
    """The environment variable a role names for its key is unset or empty."""

    reason = "missing_api_key"

    def __init__(self, role: str, env_name: str) -> None:
        self.env_name = env_name
        super().__init__(
            f"{role}: environment variable {env_name} is not set; export {env_name}=<your key> "
            f"or choose another with --llm-api-key-env"
        )


class RoleSettings(BaseModel):
    """How one role (designer, coder or conductor) talks to its model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["builtin", "openai", "replay"] = "builtin"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None  # the NAME of the variable, e.g. OPENAI_API_KEY
    request: RequestParams = RequestParams()  # what each call sends (agents/llm/request.py)
    connect_timeout_s: float = Field(10.0, gt=0.0)  # longest wait to open a connection
    timeout_s: float = Field(120.0, gt=0.0)  # longest wait for the first or the next byte
    total_timeout_s: float = Field(900.0, gt=0.0)  # longest one attempt may take in all
    waiting_report_s: float = Field(10.0, gt=0.0)  # a progress line per this long of silence
    max_retries: int = Field(4, ge=0)
    backoff_base_s: float = Field(1.0, ge=0.0)
    backoff_max_s: float = Field(60.0, ge=0.0)
    price_input_per_mtok: float = Field(0.0, ge=0.0)  # USD per 1M prompt tokens
    price_output_per_mtok: float = Field(0.0, ge=0.0)  # USD per 1M completion tokens

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, data: Any) -> Any:
        """`{"preset": "deepseek", "temperature": 0}` = the preset with those fields replaced."""
        named = preset_and_rest(data)
        if named is None or named[0] is None:
            return _request_fields_inside(data if named is None else named[1])
        given = {k: v for k, v in named[1].items() if v is not None}
        return _request_fields_inside({**preset_fields(str(named[0])), **given})

    @model_validator(mode="after")
    def _openai_needs_model(self) -> RoleSettings:
        if self.provider == "openai" and not self.model:
            raise ValueError("provider openai needs a model: set `model:` or pass --llm-model")
        return self

    def api_key(self, role: str, environ: Mapping[str, str] | None = None) -> str:
        """The key's value, read now from the environment; never store the result."""
        if not self.api_key_env:
            return NO_KEY_PLACEHOLDER
        value = (os.environ if environ is None else environ).get(self.api_key_env, "")
        if not value:
            raise MissingApiKey(role, self.api_key_env)
        return value

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.price_input_per_mtok
            + completion_tokens * self.price_output_per_mtok
        ) / 1_000_000


def _request_fields_inside(data: Any) -> Any:
    """Configs and logs older than `request:` set temperature, max_tokens and stream on the
    role itself: they move into its `request` (a preset name there stays the base)."""
    if not isinstance(data, Mapping) or not _REQUEST_SHORTHANDS.intersection(data):
        return data
    moved = {k: data[k] for k in _REQUEST_SHORTHANDS if k in data}
    request = data.get("request") or {}
    if isinstance(request, str):
        request = {"preset": request}
    if not isinstance(request, Mapping):
        return data  # the request field's own validation names the problem
    rest = {k: v for k, v in data.items() if k not in _REQUEST_SHORTHANDS}
    return {**rest, "request": {**request, **moved}}


_REQUEST_SHORTHANDS = frozenset({"temperature", "max_tokens", "stream"})


class BudgetSettings(BaseModel):
    """`agents.budget`: LLM spending limits per task and per batch; null = no limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int | None = Field(None, gt=0)  # prompt + completion tokens, per task
    max_usd: float | None = Field(None, gt=0.0)  # from the roles' prices, per task
    batch_max_tokens: int | None = Field(None, gt=0)  # every task of one batch/bench together
    batch_max_usd: float | None = Field(None, gt=0.0)


class KnowledgeSettings(BaseModel):
    """`agents.knowledge`: what the designer's and coder's prompts draw on (docs/llm.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    skills: bool = True  # Triton idioms from configs/skills/ whose tags meet the reference
    skills_dir: str | None = None  # your own skills (*.md); one named as a shipped one replaces it
    from_log: bool = True  # verified kernels of similar operators from earlier tasks
    top_skills: int = Field(2, ge=0)
    top_kernels: int = Field(2, ge=0)
    min_similarity: float = Field(0.3, ge=0.0, le=1.0)  # multiset Jaccard of operations


class LLMSettings(BaseModel):
    """The three roles' settings, the budget and the knowledge. `{"preset": NAME}` at the top
    applies to every role."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    designer: RoleSettings = RoleSettings()
    coder: RoleSettings = RoleSettings()
    conductor: RoleSettings = RoleSettings()
    budget: BudgetSettings = BudgetSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()

    @model_validator(mode="before")
    @classmethod
    def _shared_preset(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "preset" in data:
            name = data["preset"]
            out: dict[str, Any] = {}
            for role in ROLES:
                given = data.get(role, {})
                if isinstance(given, str):
                    given = {"preset": given}
                out[role] = {"preset": name, **given}
            unknown = set(data) - {"preset", *ROLES}
            out.update({k: data[k] for k in unknown})
            return out
        return data

    def secret_env_names(self) -> list[str]:
        """The environment variables holding API keys: scrubbed from verifier workers."""
        return [r.api_key_env for r in (self.designer, self.coder, self.conductor) if r.api_key_env]

    def role(self, name: str) -> RoleSettings:
        if name not in ROLES:
            raise ValueError(f"unknown role {name!r}: choose one of {', '.join(ROLES)}")
        return getattr(self, name)


_PRESETS: dict[str, dict[str, Any]] = {
    "openai": {
        "provider": "openai",
        "model": "gpt-4.1",
        "base_url": "https://api.openai.com/v1",
        "api_key_env": "OPENAI_API_KEY",
        "price_input_per_mtok": 2.0,
        "price_output_per_mtok": 8.0,
    },
    "deepseek": {
        "provider": "openai",
        "model": "deepseek-chat",
        "base_url": "https://api.deepseek.com/v1",
        "api_key_env": "DEEPSEEK_API_KEY",
        "price_input_per_mtok": 0.27,
        "price_output_per_mtok": 1.10,
    },
    "vllm": {
        "provider": "openai",
        "model": "Qwen/Qwen2.5-Coder-32B-Instruct",
        "base_url": "http://127.0.0.1:8000/v1",
        "api_key_env": None,
    },
    "sglang": {
        "provider": "openai",
        "model": "Qwen/Qwen2.5-Coder-32B-Instruct",
        "base_url": "http://127.0.0.1:30000/v1",
        "api_key_env": None,
    },
    "ollama": {
        "provider": "openai",
        "model": "qwen2.5-coder:32b",
        "base_url": "http://127.0.0.1:11434/v1",
        "api_key_env": None,
    },
    "builtin": {"provider": "builtin"},
    "replay": {"provider": "replay"},
}

PRESETS = tuple(_PRESETS)

# Fields a preset or `--llm NAME` sets; the rest (temperature, limits) stay per role.
_CONNECTION_FIELDS = (
    "provider",
    "model",
    "base_url",
    "api_key_env",
    "price_input_per_mtok",
    "price_output_per_mtok",
)


def preset_fields(name: str) -> dict[str, Any]:
    if name not in _PRESETS:
        raise ValueError(f"unknown LLM preset {name!r}: choose one of {', '.join(PRESETS)}")
    return dict(_PRESETS[name])


def apply_cli_overrides(
    settings: LLMSettings,
    *,
    llm: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
    api_key_env: str | None = None,
    request: str | None = None,
) -> LLMSettings:
    """Apply `--llm NAME --llm-base-url URL --llm-model NAME --llm-api-key-env VAR
    --llm-request PRESET` to all roles.

    `--llm` replaces each role's connection (provider, model, URL, key variable, prices) and
    keeps its temperature and limits; the other flags then replace one field each. A URL or
    a model alone switches a builtin role to the `openai` provider. `--llm-request` replaces
    each role's `request` with that request preset.
    """
    roles: dict[str, RoleSettings] = {}
    for role in ROLES:
        fields = settings.role(role).model_dump()
        if llm is not None:
            preset = preset_fields(llm)
            fields.update(
                {k: preset.get(k, RoleSettings.model_fields[k].default) for k in _CONNECTION_FIELDS}
            )
        for key, value in (("base_url", base_url), ("model", model), ("api_key_env", api_key_env)):
            if value is not None:
                fields[key] = value
        if request is not None:
            fields["request"] = {"preset": request}
        if (base_url or model) and fields["provider"] == "builtin":
            fields["provider"] = "openai"
        roles[role] = RoleSettings.model_validate(fields)
    return LLMSettings(**roles, budget=settings.budget, knowledge=settings.knowledge)
