"""The timeline's one-line summaries of a repeat, an outage and the wait for an LLM."""

from __future__ import annotations

import pytest

from machine import events as ev
from store.events import StoredEvent
from tui.views import event_summary


@pytest.mark.parametrize(
    ("event", "summary"),
    [
        (ev.VerifyRepeated(step=3, repeat_of=1), "same code as step 1: not verified again"),
        (ev.TaskInterrupted("llm_outage", "coding", 2, "down"), "interrupted: llm_outage"),
        (ev.LLMWaiting("c7", "http://127.0.0.1:9/v1", 10.0), "c7"),
    ],
)
def test_summaries(event: ev.Event, summary: str) -> None:
    stored = StoredEvent(1, "t", 1, event.TYPE, event.VERSION, 0.0, event.to_payload())
    assert event_summary(stored, event) == summary
