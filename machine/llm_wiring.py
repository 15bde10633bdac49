"""What ties the LLM agents to the event log.

`EventSink` turns every call's request, streamed text, retries and reply into events.
`ResumeCache` answers a call that was already completed before a crash from its recorded
reply, so a resumed task never pays for the same LLM call twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from agents.llm.client import ChatBackend, Message, Reply
from machine import events as ev

# Events that end a state's work; an LLM call after the last of these was in flight.
RESULT_TYPES = (
    ev.DesignProduced,
    ev.CodeProduced,
    ev.CodeMissing,
    ev.VerifyFinished,
    ev.ConductorDecided,
)


# The step an agent call belongs to, where several steps call at once (a search's nodes,
# each generated in its own asyncio task); unset, the task's current step.
CALL_STEP: ContextVar[int | None] = ContextVar("aikg_call_step", default=None)


class EventSink:
    """An `LLMSink` that appends `llm.*` events through the task's recorder."""

    def __init__(self, recorder: Any, step: Callable[[], int]) -> None:
        self.recorder = recorder
        self.step = step

    async def requested(self, role: str, model: str, messages: list[dict[str, str]]) -> str:
        call_id = uuid.uuid4().hex[:12]
        step = CALL_STEP.get() or self.step()
        await self.recorder.append(ev.LLMRequested(call_id, step, role, model, messages))
        return call_id

    async def partial(self, call_id: str, text_so_far: str) -> None:
        await self.recorder.append(ev.LLMPartial(call_id, text_so_far))

    async def waiting(self, call_id: str, endpoint: str, waited_s: float) -> None:
        await self.recorder.append(ev.LLMWaiting(call_id, endpoint, waited_s))

    async def retried(self, call_id: str, attempt: int, reason: str, wait_s: float) -> None:
        await self.recorder.append(ev.LLMRetried(call_id, attempt, reason, wait_s))

    async def responded(
        self, call_id: str, text: str, usage: dict[str, Any], latency_s: float, cost_usd: float
    ) -> None:
        await self.recorder.append(ev.LLMResponded(call_id, text, usage, latency_s, cost_usd))

    async def failed(self, call_id: str, reason: str) -> None:
        await self.recorder.append(ev.LLMFailed(call_id, reason))


@dataclass(frozen=True)
class RecordedCall:
    role: str
    messages: list[dict[str, Any]]
    reply: Reply


def completed_calls(events: list[ev.Event]) -> list[RecordedCall]:
    """Every LLM call in `events` that got a reply, in the order the calls were made.

    A search round makes its calls in node order and they are answered in any order; served
    in the order they were made, a replay of the round gives each node its own reply.
    """
    requests: dict[str, ev.LLMRequested] = {}
    replies: dict[str, Reply] = {}
    for event in events:
        if isinstance(event, ev.LLMRequested):
            requests[event.call_id] = event
        elif isinstance(event, ev.LLMResponded) and event.call_id in requests:
            replies[event.call_id] = Reply(
                event.call_id, event.text, event.usage, event.latency_s, event.cost_usd
            )
    return [
        RecordedCall(asked.role, asked.messages, replies[call_id])
        for call_id, asked in requests.items()
        if call_id in replies
    ]


def calls_in_flight(events: list[ev.Event]) -> list[RecordedCall]:
    """Completed calls whose result was never recorded (the process died just after)."""
    last_result = max((i for i, e in enumerate(events) if isinstance(e, RESULT_TYPES)), default=-1)
    return completed_calls(events[last_result + 1 :])


def replay_recording(events: list[ev.Event]) -> list[dict[str, Any]]:
    """A stream's LLM calls in the form `agents.replay.ReplayProvider` serves."""
    return [
        {"role": c.role, "messages": c.messages, "reply": c.reply.text, "usage": c.reply.usage}
        for c in completed_calls(events)
    ]


class ResumeCache:
    """A `ChatBackend` that first serves calls completed before a resume, once each."""

    def __init__(self, inner: ChatBackend, pending: list[RecordedCall]) -> None:
        self.inner = inner
        self.pending = pending  # shared by every role of one run

    async def complete(self, role: str, messages: list[Message]) -> Reply:
        for call in self.pending:
            if call.role == role and call.messages == messages:
                self.pending.remove(call)
                return call.reply
        return await self.inner.complete(role, messages)
