"""Serving the LLM replies recorded in another task's stream, in order, without any HTTP.

Each recorded call is `{"role": ..., "messages": [...], "reply": "..."}` (optionally
`"usage"`). A call whose role or rendered prompt differs from the recording stops the
replay with `ReplayDiverged`, which says which call and where the prompts part.
"""

from __future__ import annotations

import difflib
from typing import Any

from agents.llm.client import Message, Reply
from agents.llm.knowledge import Knowledge
from agents.llm.prompts import PromptLibrary
from agents.llm.provider import LLMProvider
from agents.llm.sink import LLMSink, NullSink
from agents.types import AgentError

_HINT_LINES = 8


class ReplayDiverged(AgentError):
    """The task asked something the recording did not; replay cannot go on."""

    reason = "replay_diverged"


class ReplayBackend:
    """A `ChatBackend` that answers from a recording and checks every prompt against it."""

    def __init__(self, recorded: list[dict[str, Any]], sink: LLMSink | None = None) -> None:
        for index, item in enumerate(recorded, 1):
            missing = {"role", "messages", "reply"} - set(item)
            if missing:
                raise ValueError(f"recorded call {index} lacks {', '.join(sorted(missing))}")
        self._recorded = list(recorded)
        self._next = 0
        self.sink = sink or NullSink()

    @property
    def remaining(self) -> int:
        return len(self._recorded) - self._next

    async def complete(self, role: str, messages: list[Message]) -> Reply:
        number = self._next + 1
        if self._next >= len(self._recorded):
            raise ReplayDiverged(
                f"replay diverged at call {number} ({role}): the recording has only "
                f"{len(self._recorded)} calls; replay a task that got further, or run live"
            )
        item = self._recorded[self._next]
        if item["role"] != role:
            raise ReplayDiverged(
                f"replay diverged at call {number}: the task asked the {role}, "
                f"the recording has the {item['role']}"
            )
        if _normalise(item["messages"]) != _normalise(messages):
            raise ReplayDiverged(
                f"replay diverged at call {number} ({role}): the prompt differs from the "
                f"recording; {diff_hint(item['messages'], messages)}"
            )
        self._next += 1
        text = str(item["reply"])
        usage = dict(
            item.get("usage") or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        )
        call_id = await self.sink.requested(role, "replay", messages)
        await self.sink.responded(call_id, text, usage, 0.0, 0.0)
        return Reply(call_id, text, usage, 0.0, 0.0)


def _normalise(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(str(m.get("role")), str(m.get("content"))) for m in messages]


def diff_hint(recorded: list[dict[str, Any]], asked: list[dict[str, Any]]) -> str:
    """Where two message lists first differ, with a few lines of unified diff."""
    old, new = _normalise(recorded), _normalise(asked)
    if len(old) != len(new):
        return f"the recording has {len(old)} messages, the task sent {len(new)}"
    for index, ((old_role, old_text), (new_role, new_text)) in enumerate(
        zip(old, new, strict=True)
    ):
        if old_role != new_role:
            return f"message {index} is {new_role!r}, recorded {old_role!r}"
        if old_text != new_text:
            lines = [
                line.rstrip("\n")
                for line in difflib.unified_diff(
                    old_text.splitlines(),
                    new_text.splitlines(),
                    "recorded",
                    "asked",
                    n=0,
                    lineterm="",
                )
            ][2:]
            shown = " | ".join(line[:120] for line in lines[:_HINT_LINES])
            return f"message {index} ({new_role}) differs: {shown}"
    return "the messages differ"


class ReplayProvider(LLMProvider):
    """Designer and Coder answering from a recording; one instance serves every role.

    The Conductor's LLM analysis replays through `analyse_failure_with(provider.backend, ...)`.
    """

    def __init__(
        self,
        recorded: list[dict[str, Any]],
        prompts: PromptLibrary | None = None,
        sink: LLMSink | None = None,
        knowledge: Knowledge | None = None,  # what the recorded run's prompts drew on
    ) -> None:
        backend = ReplayBackend(recorded, sink)
        super().__init__(backend, prompts or PromptLibrary(), "replay", knowledge)
