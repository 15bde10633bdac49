"""The worker's side of the device gate (``verifier/device_gate.py``): asks the parent for the
mode the job's next phase needs and records when the job held what.

The spans, ``(mode, start, end)`` in ``time.monotonic()`` seconds (CLOCK_MONOTONIC, one
clock for every process of the machine), come back with the result as
``VerifyResult.device_spans``: ``wait`` spans are the time spent waiting for a grant.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Span = tuple[str, float, float]


class GateClient:
    """Switches the job between ``free``, ``shared`` and ``exclusive``.

    ``ask(mode)`` blocks until the parent grants ``mode``; without it (a job run in the
    calling process, no other job to share the device with) every switch is granted at once.
    """

    def __init__(self, ask: Callable[[str], None] | None = None) -> None:
        self._ask = ask
        self.mode = "free"
        self.spans: list[Span] = []
        self._since = time.monotonic()

    @property
    def may_share(self) -> bool:
        """Whether another job may have used the device beside this one (a worker's gate)."""
        return self._ask is not None

    def begin(self) -> None:
        """A new job: it starts free, with no spans."""
        self.mode, self.spans, self._since = "free", [], time.monotonic()

    def switch(self, mode: str) -> None:
        if mode == self.mode:
            return
        now = time.monotonic()
        self.spans.append((self.mode, self._since, now))
        if self._ask is not None:
            self._ask(mode)
            granted = time.monotonic()
            self.spans.append(("wait", now, granted))
            now = granted
        self.mode, self._since = mode, now

    def finish(self) -> tuple[Span, ...]:
        """The job's spans, the current one closed now (the parent releases the hold)."""
        self.spans.append((self.mode, self._since, time.monotonic()))
        return tuple(self.spans)
