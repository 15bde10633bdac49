"""The LLM calls a stream recorded, as resume and `--llm replay` serve them: a search round's
calls are made in node order and answered in any order (machine/llm_wiring.py)."""

from __future__ import annotations

from machine import events as ev
from machine.llm_wiring import calls_in_flight, replay_recording


def asked(call_id: str, step: int) -> ev.LLMRequested:
    return ev.LLMRequested(call_id, step, "coder", "m", [{"role": "user", "content": call_id}])


def answered(call_id: str) -> ev.LLMResponded:
    return ev.LLMResponded(call_id, f"reply to {call_id}", {"total_tokens": 3}, 0.5, 0.0)


# round 2 of a search: n2, n3, n4 asked in node order, answered n4, n2 (n3 never: a crash)
ROUND: list[ev.Event] = [
    asked("c2", 2),
    asked("c3", 3),
    asked("c4", 4),
    answered("c4"),
    answered("c2"),
]


def test_a_recording_serves_the_calls_in_the_order_they_were_made() -> None:
    recording = replay_recording(ROUND)
    assert [(c["messages"][0]["content"], c["reply"]) for c in recording] == [
        ("c2", "reply to c2"),
        ("c4", "reply to c4"),
    ]
    assert recording[0] == {
        "role": "coder",
        "messages": [{"role": "user", "content": "c2"}],
        "reply": "reply to c2",
        "usage": {"total_tokens": 3},
    }


def test_calls_answered_after_the_last_result_are_in_flight() -> None:
    produced = ev.CodeProduced(1, "code", "openai:m", {})
    events: list[ev.Event] = [asked("c1", 1), answered("c1"), produced, *ROUND]
    assert [c.reply.call_id for c in calls_in_flight(events)] == ["c2", "c4"]
    assert [c.reply.call_id for c in calls_in_flight(events[:3])] == []
