"""The verification time breakdown folds onto the step's attempt."""

from __future__ import annotations

from machine import events as ev
from machine.state import fold
from tests.machine.samples import SAMPLES


def test_breakdown_reaches_the_attempt() -> None:
    verified = SAMPLES["verify.finished"]
    assert isinstance(verified, ev.VerifyFinished) and verified.breakdown is not None
    code = ev.CodeProduced(step=verified.step, code="kernel", agent="builtin")
    state = fold(enumerate([SAMPLES["task.created"], code, verified], start=1))
    (attempt,) = state.attempts
    assert attempt.breakdown == verified.breakdown
