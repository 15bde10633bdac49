"""The analyst: an LLM that, when `conductor.llm_analysis` is on, reads a failure and says
whether to fix the code or the design; the rule-based Conductor (machine/conductor.py) still
decides everything else. Its config role and prompts keep the name `conductor`, which
recorded logs and config files use.

An unreadable reply or a failed call falls back to fixing the code, and the reason says
why; only an outage of the endpoint (`LLMUnavailable`) stops the analysis, to be resumed.
"""

from __future__ import annotations

from agents.llm.client import ChatBackend, LLMUnavailable, OpenAIChat
from agents.llm.parsing import parse_decision
from agents.llm.prompts import PromptLibrary
from agents.llm.settings import MissingApiKey, RoleSettings
from agents.llm.sink import LLMSink
from agents.types import AgentError, AgentRequest


async def analyse_failure_with(
    backend: ChatBackend, prompts: PromptLibrary, request: AgentRequest
) -> tuple[str, str]:
    """(action, reason) with action in {"fix_code", "fix_design"}, from any chat backend."""
    try:
        reply = await backend.complete("conductor", prompts.conductor(request))
    except (MissingApiKey, LLMUnavailable):
        raise
    except AgentError as err:
        return "fix_code", f"conductor analysis unavailable ({err}); fixing the code"
    try:
        return parse_decision(reply.text)
    except ValueError as err:
        return "fix_code", f"conductor reply unreadable ({err}); fixing the code"


async def analyse_failure(
    settings: RoleSettings, prompts: PromptLibrary, sink: LLMSink, request: AgentRequest
) -> tuple[str, str]:
    """(action, reason) from the conductor role's OpenAI-compatible endpoint."""
    return await analyse_failure_with(OpenAIChat(settings, sink), prompts, request)
