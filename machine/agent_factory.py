"""Builds the provider for each role from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.llm.budget import BudgetedChat, Ledger
from agents.llm.client import ChatBackend, OpenAIChat
from agents.llm.knowledge import Knowledge
from agents.llm.prompts import PromptLibrary
from agents.llm.provider import LLMProvider
from agents.llm.settings import RoleSettings
from agents.llm.sink import LLMSink, NullSink
from agents.replay import ReplayProvider
from agents.types import Provider
from machine.builtin_isolation import IsolatedBuiltinProvider
from machine.llm_wiring import RecordedCall, ResumeCache


class AgentConfigError(ValueError):
    """A role's provider cannot be built; the message names the fix."""


@dataclass
class AgentContext:
    """What LLM providers of one run share."""

    sink: LLMSink = field(default_factory=NullSink)
    prompts: PromptLibrary = field(default_factory=PromptLibrary)
    pending: list[RecordedCall] = field(default_factory=list)  # calls completed before a resume
    replay: ReplayProvider | None = None  # the one replay provider of `--llm replay`
    secret_env_names: tuple[str, ...] = ()  # kept out of the built-in agent's process
    sandbox: str = "auto"  # how the built-in agent's process confines itself (verifier.sandbox)
    builtins: list[IsolatedBuiltinProvider] = field(default_factory=list)  # made for this run
    ledgers: tuple[Ledger, ...] = ()  # LLM budgets a call must fit (the task's, the batch's)
    knowledge: Knowledge | None = None  # skills and verified kernels the prompts draw on

    async def close(self) -> None:
        """Give back the built-in agent's process the run's providers borrowed."""
        for provider in self.builtins:
            await provider.close()


def make_provider(role: str, settings: RoleSettings, context: AgentContext) -> Provider:
    if settings.provider == "builtin":  # the reference is traced in its own process
        builtin = IsolatedBuiltinProvider(context.secret_env_names, context.sandbox)
        context.builtins.append(builtin)
        return builtin
    if settings.provider == "replay":
        if context.replay is None:
            raise AgentConfigError(f"{role}: --llm replay needs --from TASK_ID (a recorded task)")
        return context.replay
    name = f"openai:{settings.model}"
    return LLMProvider(chat_backend(settings, context), context.prompts, name, context.knowledge)


def chat_backend(settings: RoleSettings, context: AgentContext) -> ChatBackend:
    """The role's chat backend, answering calls completed before a resume from the log."""
    if settings.provider == "replay" and context.replay is not None:
        return context.replay.backend
    chat: ChatBackend = OpenAIChat(settings, context.sink)
    if context.ledgers:  # calls served from the log below cost nothing: they are not checked
        chat = BudgetedChat(chat, settings, context.ledgers)
    return ResumeCache(chat, context.pending)
