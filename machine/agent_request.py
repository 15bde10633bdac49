"""What every agent call is shown of its task: the request fields a linear step and a search
node share (the task, its target, the design) and the summary of an earlier attempt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.types import AgentRequest, Attempt, Target

if TYPE_CHECKING:
    from machine.spec import TaskSpec
    from machine.state import StepAttempt, TaskState


def task_request(spec: TaskSpec, state: TaskState, step: int, **shown: Any) -> AgentRequest:
    """The request for `step`: the task and its design, plus what this call is `shown`
    (previous code, feedback, history, a search node's parent and inspirations, …)."""
    return AgentRequest(
        op_name=spec.op_name,
        reference_source=spec.task_desc,
        framework=spec.framework,
        target=Target(spec.backend, spec.arch, spec.impl_type),
        task_type=spec.task_type,
        step=step,
        design=state.design,
        **shown,
    )


def attempt_summary(attempt: StepAttempt, message: str) -> Attempt:
    """An earlier attempt as an agent's history shows it, with `message` said of it."""
    return Attempt(
        step=attempt.step,
        passed=attempt.passed,
        stage=attempt.result.stage if attempt.result is not None else "no_code",
        message=message,
        candidate_time_ms=attempt.time_ms,
        launch_config=attempt.notes.get("launch_config"),
    )
