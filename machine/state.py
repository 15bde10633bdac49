"""Task state as a pure fold over its events. Nothing here waits or writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from machine import events as ev
from machine.graph import INITIAL, after
from verifier.result import TimeBreakdown, VerifyResult

# what changes run to run, left out of what an agent is told (so prompts replay exactly):
# the wall time, its breakdown, and when the job held the device gate (monotonic clock)
NOISE = ("duration_s", "breakdown", "device_spans")


@dataclass(frozen=True)
class StepAttempt:
    """One code step: the candidate (if any) and what the verifier said of it."""

    step: int
    code: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    missing: ev.CodeMissing | None = None  # why there was no code
    result: VerifyResult | None = None
    repeat_of: int | None = None  # the earlier step with the same code, whose result this is
    breakdown: TimeBreakdown | None = None  # where this step's verification time went

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed

    @property
    def stage(self) -> str | None:
        """Where it failed: the verifier's stage, or why there was no code (None: passed)."""
        if self.missing is not None:
            return self.missing.reason
        return self.result.stage if self.result is not None else None

    @property
    def message(self) -> str:
        """The verifier's message, or what the agent said instead of code."""
        if self.missing is not None:
            return self.missing.message
        return self.result.message if self.result is not None else ""

    @property
    def feedback(self) -> dict[str, Any] | None:
        """The verifier's result (or why there was no code) as the next agent is told it;
        None before either exists."""
        if self.missing is not None:
            return {"passed": False, "stage": self.missing.reason, "message": self.missing.message}
        if self.result is None:
            return None
        return {k: v for k, v in self.result.to_dict().items() if k not in NOISE}

    @property
    def timings(self) -> dict[str, Any]:
        """The verifier's profile-mode timings (empty when it did not time)."""
        return (self.result.timings if self.result is not None else None) or {}

    @property
    def time_ms(self) -> float | None:
        value = (self.timings.get("candidate") or {}).get("median_ms")
        return float(value) if value is not None else None


@dataclass(frozen=True)
class TaskState:
    spec: ev.TaskCreated | None = None
    reference: ev.ReferenceProposed | None = None  # the reference was written from prose
    status: str = (
        "new"  # the graph state (machine/graph.py) its events led to; the runner resumes there
    )
    step: int = 0
    action: str | None = None  # what the current step started with: design | code
    design: str | None = None
    attempts: tuple[StepAttempt, ...] = ()
    decisions: tuple[ev.ConductorDecided, ...] = ()
    nodes: tuple[ev.NodeCreated, ...] = ()  # a search's nodes (docs/search.md)
    pending_decision: ev.ConductorDecided | None = None  # decided, next step not yet begun
    held_device: str | None = None
    finished: ev.TaskFinished | None = None
    interrupted: bool = False
    llm_calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    last_seq: int = 0

    @property
    def task_id(self) -> str | None:
        return self.spec.task_id if self.spec else None

    @property
    def success(self) -> bool:
        return bool(self.finished and self.finished.success)

    @property
    def last_attempt(self) -> StepAttempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def best_timings(self) -> dict[str, Any]:
        """The kept kernel's timings (empty when nothing verified or nothing was timed)."""
        best = self.best
        return best.timings if best else {}

    @property
    def shown_status(self) -> str:
        """One word for lists: verified, the finish reason, interrupted, or the live state."""
        if self.finished is not None:
            return "verified" if self.finished.success else self.finished.reason
        if self.interrupted:
            return "interrupted"
        return self.status

    @property
    def best(self) -> StepAttempt | None:
        """The verified attempt to keep: the fastest when timed, else the first."""
        verified = [a for a in self.attempts if a.passed]
        if not verified:
            return None
        timed = [a for a in verified if a.time_ms is not None]
        return min(timed, key=lambda a: a.time_ms or 0.0) if timed else verified[0]


def fold(events: Iterable[tuple[int, ev.Event]], state: TaskState | None = None) -> TaskState:
    """Apply `(seq, event)` pairs in order."""
    state = state or TaskState()
    for seq, event in events:
        state = apply(state, event, seq)
    return state


def _update_attempt(state: TaskState, step: int, **changes: Any) -> tuple[StepAttempt, ...]:
    attempts = list(state.attempts)
    for i in range(len(attempts) - 1, -1, -1):
        if attempts[i].step == step:
            attempts[i] = replace(attempts[i], **changes)
            return tuple(attempts)
    return (*attempts, StepAttempt(step=step, **changes))


def apply(state: TaskState, event: ev.Event, seq: int = 0) -> TaskState:
    state = replace(state, last_seq=seq or state.last_seq + 1)
    if isinstance(event, ev.TaskCreated):
        return replace(state, spec=event, status=INITIAL)
    if isinstance(event, ev.ReferenceProposed):
        return replace(state, reference=event)
    if isinstance(event, ev.StepStarted):
        status = after("fix_design" if event.action == "design" else "fix_code")  # its state
        return replace(
            state, step=event.step, action=event.action, status=status, pending_decision=None
        )
    if isinstance(event, ev.DesignProduced):
        return replace(state, design=event.text, status=after("designed"))
    if isinstance(event, ev.CodeProduced):
        attempts = _update_attempt(state, event.step, code=event.code, notes=dict(event.notes))
        return replace(state, attempts=attempts, status=after("coded"))
    if isinstance(event, ev.CodeMissing):
        attempts = _update_attempt(state, event.step, missing=event)
        trigger = "code_missing" if event.role == "coder" else "design_missing"
        return replace(state, attempts=attempts, status=after(trigger))
    if isinstance(event, ev.DeviceLeased):
        return replace(state, held_device=event.device)
    if isinstance(event, ev.DeviceReleased):
        return replace(state, held_device=None)
    if isinstance(event, ev.VerifyFinished):
        attempts = _update_attempt(
            state, event.step, result=event.result, breakdown=event.breakdown
        )
        return replace(state, attempts=attempts, status=after("checked"))
    if isinstance(event, ev.VerifyRepeated):
        earlier = next(a for a in state.attempts if a.step == event.repeat_of)
        attempts = _update_attempt(
            state, event.step, result=earlier.result, repeat_of=event.repeat_of
        )
        return replace(state, attempts=attempts, status=after("checked"))
    if isinstance(event, ev.NodeCreated):
        return replace(state, nodes=(*state.nodes, event))
    if isinstance(event, ev.ConductorDecided):
        return replace(state, decisions=(*state.decisions, event), pending_decision=event)
    if isinstance(event, ev.TaskFinished):
        return replace(
            state, finished=event, status=after("stop"), held_device=None, pending_decision=None
        )
    if isinstance(event, ev.TaskInterrupted):
        return replace(state, interrupted=True, held_device=None)
    if isinstance(event, ev.TaskResumed):
        return replace(state, interrupted=False)
    if isinstance(event, ev.LLMResponded):
        usage = event.usage or {}
        tokens = int(usage.get("total_tokens") or 0)
        return replace(
            state,
            llm_calls=state.llm_calls + 1,
            tokens=state.tokens + tokens,
            cost_usd=state.cost_usd + float(event.cost_usd or 0.0),
        )
    return state
