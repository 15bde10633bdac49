"""`Interrupted`: a run stopped before its end, to be resumed."""

from __future__ import annotations

# `Interrupted.signal_name` of a task stopped because its LLM endpoint did not answer.
LLM_OUTAGE = "llm_outage"


class Interrupted(Exception):
    """The run stopped before its end (a signal, an LLM outage); `task.interrupted` is
    recorded, nothing is lost, and `aikg resume` continues it.

    `detail` completes "task T interrupted ...": "by SIGINT", or what went wrong."""

    def __init__(self, signal_name: str, detail: str | None = None) -> None:
        self.signal_name = signal_name
        self.detail = detail or f"by {signal_name}"
        super().__init__(f"interrupted {self.detail}; resume with `aikg resume`")
