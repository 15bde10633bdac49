from __future__ import annotations

import json

import pytest

from machine import events as ev
from tests.machine.samples import SAMPLES


def test_every_registered_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(ev.EVENT_TYPES)


@pytest.mark.parametrize("type_", sorted(SAMPLES))
def test_json_round_trip(type_: str) -> None:
    event = SAMPLES[type_]
    text = json.dumps(event.to_payload(), sort_keys=True)
    back = ev.decode(type_, event.VERSION, json.loads(text))
    assert back == event
    assert type(back) is type(event)


def test_unknown_type_and_fields_are_rejected() -> None:
    with pytest.raises(ev.UnknownEventType):
        ev.decode("no.such", 1, {})
    with pytest.raises(ev.EventDecodeError, match="unknown fields"):
        ev.decode("step.started", 1, {"step": 1, "action": "code", "reason": "", "extra": 1})


def test_newer_version_is_refused_and_older_upcast() -> None:
    with pytest.raises(ev.EventDecodeError, match="newer"):
        ev.decode("step.started", 99, {})
    ev.UPCASTERS[("llm.failed", 0)] = lambda p: {"call_id": p["call_id"], "reason": p["why"]}
    try:
        assert ev.decode("llm.failed", 0, {"call_id": "c", "why": "x"}) == ev.LLMFailed("c", "x")
    finally:
        del ev.UPCASTERS[("llm.failed", 0)]


def test_verify_finished_carries_the_reverified_speedup_flag() -> None:
    result = {"passed": True, "stage": None, "suspicious_speedup": True, "reverified": True}
    event = ev.VerifyFinished(step=2, device="cuda:0", result=result)
    assert event.suspicious_speedup
    back = ev.decode("verify.finished", event.VERSION, json.loads(json.dumps(event.to_payload())))
    assert back.suspicious_speedup and back == event
    assert not ev.VerifyFinished(step=1, device="cpu", result={"passed": True}).suspicious_speedup
