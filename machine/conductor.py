"""The Conductor: the task's state graph as data, and the rules that pick the next step.

The graph is driven by a `transitions` AsyncMachine (see `machine/runner.py`); the rules are
a pure function of the folded state so they test without an event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from machine.graph import STATES, TRANSITIONS
from machine.state import TaskState

__all__ = ["STATES", "TRANSITIONS", "Decision", "Rules", "decide", "mermaid_graph"]

ACTIONS_STARTING_A_STEP = {"fix_code": "code", "optimize": "code", "fix_design": "design"}

# Agent failures another step cannot fix -> the task.finished reason they end the task with.
FATAL_AGENT_ERRORS = {
    "unsupported": "unsupported",
    "replay_diverged": "replay_diverged",
    "missing_api_key": "agent_error",
    "llm_failed": "agent_error",
    "prompt_error": "agent_error",
    "builtin_failed": "agent_error",
    # an LLM budget spent ends the task as the step limit does (a verified kernel is kept)
    "budget_exhausted": "limit_reached",
}


def mermaid_graph() -> str:
    """The state graph as mermaid text (stored in `task.created`)."""
    lines = ["stateDiagram-v2", "    [*] --> created"]
    for t in TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        guard = f" [{t['conditions']}]" if "conditions" in t else ""
        lines += [f"    {s} --> {t['dest']}: {t['trigger']}{guard}" for s in sources]
    lines.append("    finished --> [*]")
    return "\n".join(lines)


@dataclass(frozen=True)
class Decision:
    action: str  # finish | fix_code | fix_design | optimize | stop
    reason: str
    finish_reason: str | None = None  # for finish/stop: the task.finished reason


@dataclass(frozen=True)
class Rules:
    """Tunable thresholds of the rule-based Conductor (from the config)."""

    max_same_failures: int = 2  # this many failures of one kind in a row -> redesign
    profile_patience: int = 3  # profile mode: stop after this many steps without a faster kernel


def has_steps_left(state: TaskState) -> bool:
    """The guard of every transition that starts a step, and `decide`'s limit."""
    assert state.spec is not None
    return state.step < state.spec.limit_steps


def is_verified(state: TaskState) -> bool:
    """The guard of `finish`: a kernel verified."""
    return state.best is not None


def decide(state: TaskState, rules: Rules) -> Decision:
    """Pick the next step from the folded state. Pure."""
    spec = state.spec
    assert spec is not None
    last = state.last_attempt
    steps_left = has_steps_left(state)
    best = state.best

    if last is not None and last.missing:
        kind, message = last.missing.reason, last.missing.message
        if kind == "budget_exhausted" and best is not None:
            return Decision("finish", f"{message}; keeping step {best.step}", "verified")
        if kind in FATAL_AGENT_ERRORS:
            return Decision("stop", message or kind, FATAL_AGENT_ERRORS[kind])

    if last is not None and last.result is not None and last.result.reference_error:
        message = last.result.message
        return Decision("stop", f"the task file fails on its own: {message}", "reference_error")

    if best is not None:
        if spec.task_type != "profile":
            return Decision("finish", f"step {best.step} verified", "verified")
        if spec.backend == "cpu":  # interpreter timings are not speedups: nothing to search
            return Decision(
                "finish", f"step {best.step} verified (cpu: no timing search)", "verified"
            )
        if not steps_left:
            return Decision("finish", f"limit reached; keeping step {best.step}", "verified")
        if _steps_since_improvement(state) >= rules.profile_patience:
            return Decision(
                "finish",
                f"no faster kernel in {rules.profile_patience} steps; keeping step {best.step}",
                "verified",
            )
        return Decision("optimize", _optimize_reason(state))

    if not steps_left:
        return Decision("stop", f"no kernel verified in {spec.limit_steps} steps", "limit_reached")
    failure = _failure_kind(last)
    repeat = ""
    if last is not None and last.repeat_of is not None:
        repeat = f" (same code as step {last.repeat_of}: write a different kernel)"
    if _same_failures_in_a_row(state) >= rules.max_same_failures:
        return Decision(
            "fix_design", f"{failure} failed {rules.max_same_failures} times in a row{repeat}"
        )
    return Decision("fix_code", f"last step failed: {failure}{repeat}")


def _failure_kind(attempt: Any) -> str:
    if attempt is None:
        return "nothing produced"
    return attempt.stage or "unknown"


def _same_failures_in_a_row(state: TaskState) -> int:
    """Failures of the last attempt's kind since the last design step."""
    attempts = [a for a in state.attempts if not a.passed]
    if not attempts:
        return 0
    kind = _failure_kind(attempts[-1])
    last_design_step = max(
        (d.step + 1 for d in state.decisions if d.action == "fix_design"), default=1
    )
    count = 0
    for attempt in reversed(state.attempts):
        if attempt.step < last_design_step or attempt.passed or _failure_kind(attempt) != kind:
            break
        count += 1
    return count


def _steps_since_improvement(state: TaskState) -> int:
    best = state.best
    return 0 if best is None else state.step - best.step


def _optimize_reason(state: TaskState) -> str:
    best = state.best
    assert best is not None
    timed = f" ({best.time_ms:.4g} ms)" if best.time_ms is not None else ""
    return f"verified; searching for a faster kernel than step {best.step}{timed}"
