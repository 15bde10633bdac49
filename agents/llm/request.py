"""Which parameters a role's chat-completions request sends, with presets per kind of server.

Servers differ in what they accept: OpenAI's reasoning models refuse `temperature` and take
`max_completion_tokens` instead of `max_tokens`; some servers refuse `stream_options`;
vLLM and SGLang take extra sampling fields. A role's `request:` says exactly what goes on
the wire; a field set to null is not sent at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Fields the client sets itself: `extra_body` may not replace them.
_CLIENT_FIELDS = frozenset({"model", "messages", "stream", "stream_options"})


class RequestParams(BaseModel):
    """The sampling and length fields sent with every call of one role."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(0.2, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(8192, gt=0)
    max_completion_tokens: int | None = Field(None, gt=0)  # reasoning models' output limit
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    stream: bool = True
    stream_usage: bool = True  # sends stream_options: {include_usage: true} when streaming
    extra_body: dict[str, Any] = Field(default_factory=dict)  # sent as is, e.g. {top_k: 20}

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, data: Any) -> Any:
        """`"openai-reasoning"` or `{"preset": "vllm", "top_p": 0.9}`: the preset, then the rest."""
        named = preset_and_rest(data)
        if named is None or named[0] is None:
            return data if named is None else named[1]
        return {**request_preset(str(named[0])), **named[1]}

    @model_validator(mode="after")
    def _one_output_limit(self) -> RequestParams:
        if self.max_tokens is not None and self.max_completion_tokens is not None:
            raise ValueError(
                "set max_tokens or max_completion_tokens, not both: reasoning models take "
                "max_completion_tokens (set max_tokens: null)"
            )
        shadowed = sorted(_CLIENT_FIELDS.intersection(self.extra_body))
        shadowed += sorted(set(self.extra_body).intersection(type(self).model_fields))
        if shadowed:
            raise ValueError(
                f"extra_body may not set {shadowed[0]!r}: use the request field of that name"
            )
        return self

    def body(self) -> dict[str, Any]:
        """The JSON fields sent besides `model`, `messages` and `stream`."""
        fields: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "max_completion_tokens": self.max_completion_tokens,
            "reasoning_effort": self.reasoning_effort,
        }
        sent = {k: v for k, v in fields.items() if v is not None}
        if self.stream and self.stream_usage:
            sent["stream_options"] = {"include_usage": True}
        return {**sent, **self.extra_body}

    def output_limit(self) -> int | None:
        return self.max_tokens if self.max_tokens is not None else self.max_completion_tokens


def preset_and_rest(data: Any) -> tuple[Any, dict[str, Any]] | None:
    """`"name"` or `{"preset": name, ...}`: (the name, the other fields); None otherwise."""
    if isinstance(data, str):
        return data, {}
    if isinstance(data, Mapping) and "preset" in data:
        return data["preset"], {k: v for k, v in data.items() if k != "preset"}
    return None


_CHAT = {"temperature": 0.2, "max_tokens": 8192, "stream": True, "stream_usage": True}
_REQUEST_PRESETS: dict[str, dict[str, Any]] = {
    # the chat-completions fields every OpenAI-compatible server takes (the default)
    "openai": dict(_CHAT),
    # o1/o3/o4-mini/gpt-5: no temperature or top_p, max_completion_tokens, an effort level
    "openai-reasoning": {
        "temperature": None,
        "max_tokens": None,
        "max_completion_tokens": 32768,
        "reasoning_effort": "medium",
        "stream": True,
        "stream_usage": True,
    },
    "vllm": {**_CHAT, "top_p": 0.95},
    "sglang": {**_CHAT, "top_p": 0.95},
    "deepseek": dict(_CHAT),
    # deepseek-reasoner ignores sampling fields and thinks at length before answering
    "deepseek-reasoner": {**_CHAT, "temperature": None, "max_tokens": 32768},
    # older Ollama releases send no usage in a stream and refuse stream_options
    "ollama": {**_CHAT, "stream_usage": False},
    # the least a server can take: model and messages, one JSON reply
    "minimal": {"temperature": None, "max_tokens": None, "stream": False, "stream_usage": False},
}

REQUEST_PRESETS = tuple(_REQUEST_PRESETS)


def request_preset(name: str) -> dict[str, Any]:
    if name not in _REQUEST_PRESETS:
        raise ValueError(
            f"unknown request preset {name!r}: choose one of {', '.join(REQUEST_PRESETS)}"
        )
    return dict(_REQUEST_PRESETS[name])


def refusal_advice(message: str, params: RequestParams) -> str | None:
    """How to stop sending the field a server's HTTP 400 message names, if we sent it."""
    lowered = message.lower()
    for name in sorted(params.body(), key=len, reverse=True):
        if name.lower() not in lowered:
            continue
        if name == "stream_options":
            change = "`request: {stream_usage: false}`"
        elif name in params.extra_body:
            change = f"`request.extra_body` without {name!r}"
        else:
            change = f"`request: {{{name}: null}}`"
        return (
            f"it refuses the request field {name!r}: set {change} for this role, or pick a "
            f"request preset that does not send it ({', '.join(REQUEST_PRESETS)}; docs/llm.md)"
        )
    return None
