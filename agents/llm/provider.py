"""The LLM Designer and Coder: render a prompt, ask a chat backend, parse the reply.

`LLMProvider` works over any `ChatBackend` (a live endpoint or a replay); `OpenAIProvider`
is the one over an OpenAI-compatible endpoint.
"""

from __future__ import annotations

from agents.llm.client import ChatBackend, OpenAIChat
from agents.llm.knowledge import Knowledge
from agents.llm.parsing import extract_code, extract_design
from agents.llm.prompts import PromptLibrary
from agents.llm.settings import RoleSettings
from agents.llm.sink import LLMSink
from agents.types import AgentRequest, Candidate, Design, NoCode


class ReplyWithoutCode(NoCode):
    """A reply held no usable code; `call_id` links it to the call's events."""

    def __init__(self, message: str, call_id: str) -> None:
        self.call_id = call_id
        super().__init__(message)


class LLMProvider:
    """A `Provider` that asks a chat backend for designs and code."""

    def __init__(
        self,
        backend: ChatBackend,
        prompts: PromptLibrary,
        name: str,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.backend = backend
        self.prompts = prompts
        self.name = name
        self.knowledge = knowledge  # skills and similar verified kernels for the prompts

    async def design(self, request: AgentRequest) -> Design:
        messages = self.prompts.designer(request, self.knowledge)
        reply = await self.backend.complete("designer", messages)
        try:
            text = extract_design(reply.text)
        except NoCode as err:
            raise ReplyWithoutCode(str(err), reply.call_id) from None
        return Design(
            text, notes={"call_id": reply.call_id, "usage": reply.usage, "cost_usd": reply.cost_usd}
        )

    async def code(self, request: AgentRequest) -> Candidate:
        reply = await self.backend.complete("coder", self.prompts.coder(request, self.knowledge))
        try:
            code = extract_code(reply.text)
        except NoCode as err:
            raise ReplyWithoutCode(str(err), reply.call_id) from None
        return Candidate(
            code, notes={"call_id": reply.call_id, "usage": reply.usage, "cost_usd": reply.cost_usd}
        )


class OpenAIProvider(LLMProvider):
    """Designer and Coder over an OpenAI-compatible endpoint (OpenAI, DeepSeek, vLLM, ...)."""

    def __init__(self, settings: RoleSettings, prompts: PromptLibrary, sink: LLMSink) -> None:
        super().__init__(OpenAIChat(settings, sink), prompts, name=f"openai:{settings.model}")
        self.settings = settings
