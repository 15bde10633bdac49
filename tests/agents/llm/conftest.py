"""Fixtures for the LLM tests: the scripted OpenAI-compatible server and a recording sink."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.e2e.conftest import aikg_env
from tests.support.openai_server import openai_server

__all__ = ["RecordingSink", "aikg_env", "openai_server"]


class RecordingSink:
    """An `LLMSink` that keeps every report, in order, as `(kind, args)`."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._ids = itertools.count(1)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [args for k, args in self.events if k == kind]

    async def requested(self, role: str, model: str, messages: list[dict[str, str]]) -> str:
        call_id = f"call-{next(self._ids)}"
        self.events.append(("requested", (call_id, role, model, messages)))
        return call_id

    async def partial(self, call_id: str, text_so_far: str) -> None:
        self.events.append(("partial", (call_id, text_so_far)))

    async def waiting(self, call_id: str, endpoint: str, waited_s: float) -> None:
        self.events.append(("waiting", (call_id, endpoint, waited_s)))

    async def retried(self, call_id: str, attempt: int, reason: str, wait_s: float) -> None:
        self.events.append(("retried", (call_id, attempt, reason, wait_s)))

    async def responded(
        self, call_id: str, text: str, usage: dict[str, Any], latency_s: float, cost_usd: float
    ) -> None:
        self.events.append(("responded", (call_id, text, usage, latency_s, cost_usd)))

    async def failed(self, call_id: str, reason: str) -> None:
        self.events.append(("failed", (call_id, reason)))


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()
