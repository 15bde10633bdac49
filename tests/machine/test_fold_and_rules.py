from __future__ import annotations

from dataclasses import replace

from machine import events as ev
from machine.conductor import TRANSITIONS, Rules, decide, mermaid_graph
from machine.state import fold
from tests.machine.samples import SAMPLES

CREATED = replace(SAMPLES["task.created"], limit_steps=3)  # type: ignore[type-var]


def failed(step: int, stage: str = "mismatch") -> list[ev.Event]:
    return [
        ev.StepStarted(step, "code", "retry"),
        ev.CodeProduced(step, f"code {step}", "builtin"),
        ev.VerifyFinished(step, "cpu", {"passed": False, "stage": stage, "message": "bad"}),
    ]


def passed(step: int, ms: float | None = None) -> list[ev.Event]:
    timings = {"candidate": {"median_ms": ms}} if ms is not None else None
    return [
        ev.StepStarted(step, "code", "retry"),
        ev.CodeProduced(step, f"code {step}", "builtin"),
        ev.VerifyFinished(
            step, "cpu", {"passed": True, "stage": None, "message": "ok", "timings": timings}
        ),
    ]


def folded(*events: ev.Event):
    return fold(enumerate([CREATED, *events], start=1))


def test_fold_tracks_steps_attempts_and_best() -> None:
    state = folded(*failed(1), *passed(2), ev.TaskFinished(True, "verified", "ok", 2, 2))
    assert state.step == 2
    assert [a.passed for a in state.attempts] == [False, True]
    assert state.best is not None and state.best.code == "code 2"
    assert state.success and state.status == "finished"
    assert state.last_seq == 8


def test_fold_keeps_fastest_verified_in_profile_mode() -> None:
    state = folded(*passed(1, 2.0), *passed(2, 1.0), *passed(3, 3.0))
    assert state.best is not None and state.best.step == 2


def test_fold_device_and_llm_usage() -> None:
    state = folded(ev.DeviceLeased(1, "cpu"))
    assert state.held_device == "cpu"
    state = folded(
        ev.DeviceLeased(1, "cpu"), ev.DeviceReleased(1, "cpu", 0.1), SAMPLES["llm.responded"]
    )
    assert state.held_device is None
    assert (state.llm_calls, state.tokens) == (1, 12)


def test_rules_finish_when_verified() -> None:
    decision = decide(folded(*passed(1)), Rules())
    assert (decision.action, decision.finish_reason) == ("finish", "verified")


def test_rules_fix_code_then_redesign_then_limit() -> None:
    assert decide(folded(*failed(1)), Rules()).action == "fix_code"
    assert decide(folded(*failed(1), *failed(2)), Rules()).action == "fix_design"
    assert decide(folded(*failed(1, "compile"), *failed(2)), Rules()).action == "fix_code"
    last = decide(folded(*failed(1), *failed(2), *failed(3)), Rules())
    assert (last.action, last.finish_reason) == ("stop", "limit_reached")


def test_rules_stop_on_unsupported() -> None:
    missing = ev.CodeMissing(1, "builtin", "unsupported", "cannot lower: aten.fft")
    decision = decide(folded(ev.StepStarted(1, "design", "first"), missing), Rules())
    assert (decision.action, decision.finish_reason) == ("stop", "unsupported")


def test_rules_profile_mode_optimises_until_patience() -> None:
    profile = replace(CREATED, task_type="profile", limit_steps=10, backend="cuda", arch="h100")
    state = fold(enumerate([profile, *passed(1, 2.0)], start=1))
    assert decide(state, Rules(profile_patience=2)).action == "optimize"
    state = fold(enumerate([profile, *passed(1, 1.0), *passed(2, 2.0), *passed(3, 2.0)], start=1))
    assert decide(state, Rules(profile_patience=2)).action == "finish"


def test_rules_profile_mode_on_cpu_finishes_at_first_verified() -> None:
    profile = replace(CREATED, task_type="profile", limit_steps=10)
    state = fold(enumerate([profile, *passed(1, 2.0)], start=1))
    decision = decide(state, Rules())
    assert (decision.action, decision.finish_reason) == ("finish", "verified")
    assert "cpu" in decision.reason


def test_graph_is_data_and_mermaid() -> None:
    text = mermaid_graph()
    assert text.startswith("stateDiagram-v2")
    for t in TRANSITIONS:
        assert t["trigger"] in text
    assert "[has_steps_left]" in text and "[is_verified]" in text


def test_rules_stop_when_the_reference_itself_fails() -> None:
    broken = [
        ev.StepStarted(1, "code", "first"),
        ev.CodeProduced(1, "code", "builtin"),
        ev.VerifyFinished(
            1,
            "cpu",
            {"passed": False, "stage": "runtime", "message": "boom", "reference_error": True},
        ),
    ]
    decision = decide(folded(*broken), Rules())
    assert (decision.action, decision.finish_reason) == ("stop", "reference_error")
    assert "task file" in decision.reason
