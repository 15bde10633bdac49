"""LLM agents: settings, prompts, reply parsing, the OpenAI-compatible client and providers."""

from __future__ import annotations

from agents.llm.analyst import analyse_failure, analyse_failure_with
from agents.llm.client import ChatBackend, LLMCallFailed, LLMUnavailable, OpenAIChat, Reply
from agents.llm.parsing import extract_code, extract_design, parse_decision
from agents.llm.prompts import PromptError, PromptLibrary
from agents.llm.provider import LLMProvider, OpenAIProvider, ReplyWithoutCode
from agents.llm.settings import (
    PRESETS,
    ROLES,
    LLMSettings,
    MissingApiKey,
    RoleSettings,
    apply_cli_overrides,
)
from agents.llm.sink import LLMSink, NullSink

__all__ = [
    "PRESETS",
    "ROLES",
    "ChatBackend",
    "LLMCallFailed",
    "LLMProvider",
    "LLMSettings",
    "LLMSink",
    "LLMUnavailable",
    "MissingApiKey",
    "NullSink",
    "OpenAIChat",
    "OpenAIProvider",
    "PromptError",
    "PromptLibrary",
    "Reply",
    "ReplyWithoutCode",
    "RoleSettings",
    "analyse_failure",
    "analyse_failure_with",
    "apply_cli_overrides",
    "extract_code",
    "extract_design",
    "parse_decision",
]
