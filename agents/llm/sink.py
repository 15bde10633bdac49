"""Where an LLM call reports its life: the machine implements this to append events.

Nothing passed to a sink ever holds an API key: messages are the rendered prompt, reasons
are built by the client and scrubbed of the key's value.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol


class LLMSink(Protocol):
    async def requested(self, role: str, model: str, messages: list[dict[str, str]]) -> str:
        """A call is about to start; returns the id the other reports will carry."""
        ...

    async def partial(self, call_id: str, text_so_far: str) -> None:
        """The reply so far, at most about every 0.5 s while it streams."""
        ...

    async def waiting(self, call_id: str, endpoint: str, waited_s: float) -> None:
        """Nothing has arrived from `endpoint` for `waited_s` seconds (the call goes on)."""
        ...

    async def retried(self, call_id: str, attempt: int, reason: str, wait_s: float) -> None:
        """Attempt `attempt` (1-based) failed for `reason`; the next starts in `wait_s`."""
        ...

    async def responded(
        self, call_id: str, text: str, usage: dict[str, Any], latency_s: float, cost_usd: float
    ) -> None:
        """The call finished with the whole reply text."""
        ...

    async def failed(self, call_id: str, reason: str) -> None:
        """The call gave up (retries spent or an error that retrying cannot fix)."""
        ...


class NullSink:
    """A sink that records nothing, for library use and tests that do not look."""

    async def requested(self, role: str, model: str, messages: list[dict[str, str]]) -> str:
        return uuid.uuid4().hex

    async def partial(self, call_id: str, text_so_far: str) -> None:
        return None

    async def waiting(self, call_id: str, endpoint: str, waited_s: float) -> None:
        return None

    async def retried(self, call_id: str, attempt: int, reason: str, wait_s: float) -> None:
        return None

    async def responded(
        self, call_id: str, text: str, usage: dict[str, Any], latency_s: float, cost_usd: float
    ) -> None:
        return None

    async def failed(self, call_id: str, reason: str) -> None:
        return None
