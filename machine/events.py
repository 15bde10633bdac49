"""Every event a task stream can hold: frozen dataclasses with a stable type string.

Types are registered in one place (`EVENT_TYPES`); each converts to a JSON payload and
back. `upcast` brings payloads written by older schema versions up to the current one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

from machine.spec import TaskSpec
from verifier.result import TimeBreakdown, VerifyResult, decode_result

E = TypeVar("E", bound="Event")


@dataclass(frozen=True)
class Event:
    """Base of all events. `TYPE` is the stable name stored in the log."""

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def to_payload(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_payload(cls: type[E], payload: dict[str, Any]) -> E:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(payload) - names
        if unknown:
            raise EventDecodeError(f"{cls.TYPE}: unknown fields {sorted(unknown)}")
        return cls(**payload)


class EventDecodeError(ValueError):
    """A stored payload does not match its event type."""


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


EVENT_TYPES: dict[str, type[Event]] = {}


def register(cls: type[E]) -> type[E]:
    if not cls.TYPE or cls.TYPE in EVENT_TYPES:
        raise ValueError(f"event type {cls.TYPE!r} missing or registered twice")
    EVENT_TYPES[cls.TYPE] = cls
    return cls


# --- the task's lifecycle -----------------------------------------------------------------


@register
@dataclass(frozen=True)
class TaskCreated(Event, TaskSpec):
    """The task's spec (its fields come first, as they always have on disk), its config
    and where it came from."""

    TYPE: ClassVar[str] = "task.created"
    config: dict[str, Any]
    config_digest: str
    graph: str  # the Conductor's state graph, mermaid text
    aikg_version: str
    source_path: str | None = None
    forked_from: dict[str, Any] | None = None  # {"task_id": ..., "seq": ...}


@register
@dataclass(frozen=True)
class ReferenceProposed(Event):
    """The reference task file aikg wrote from a prose task description (docs/prose-tasks.md);
    `task.created`'s `task_desc` holds the same source, which every step runs against."""

    TYPE: ClassVar[str] = "reference.proposed"
    written_by: str  # formula (the built-in formula form) | llm (the Designer's model)
    prose: str  # the description as the user gave it
    source: str  # the KernelBench-format reference written from it
    inputs: dict[str, str] = field(default_factory=dict)  # name -> shape and dtype (formula)
    parameters: dict[str, float] = field(default_factory=dict)  # name -> value (formula)
    defaulted: list[str] = field(default_factory=list)  # parameters given the stated default
    model: str = ""  # the LLM that wrote it (llm)


@register
@dataclass(frozen=True)
class StepStarted(Event):
    TYPE: ClassVar[str] = "step.started"
    step: int
    action: str  # design | code
    reason: str


@register
@dataclass(frozen=True)
class DesignProduced(Event):
    TYPE: ClassVar[str] = "design.produced"
    step: int
    text: str
    agent: str
    notes: dict[str, Any] = field(default_factory=dict)


@register
@dataclass(frozen=True)
class CodeProduced(Event):
    TYPE: ClassVar[str] = "code.produced"
    step: int
    code: str
    agent: str
    notes: dict[str, Any] = field(default_factory=dict)


@register
@dataclass(frozen=True)
class CodeMissing(Event):
    """An agent produced no usable code this step (it still counts as a step)."""

    TYPE: ClassVar[str] = "code.missing"
    step: int
    agent: str
    reason: str  # no_code | unsupported | agent_error
    message: str
    role: str = "coder"
    ops: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """'reason: message', as lists and the agent's history show it."""
        return f"{self.reason}: {self.message}"


@register
@dataclass(frozen=True)
class DeviceLeased(Event):
    TYPE: ClassVar[str] = "device.leased"
    step: int
    device: str


@register
@dataclass(frozen=True)
class DeviceReleased(Event):
    TYPE: ClassVar[str] = "device.released"
    step: int
    device: str
    held_s: float


@register
@dataclass(frozen=True)
class VerifyFinished(Event):
    TYPE: ClassVar[str] = "verify.finished"
    step: int
    device: str
    # on disk: VerifyResult.to_dict() less its breakdown, which is a field of its own here
    result: VerifyResult
    breakdown: TimeBreakdown | None = None  # where the verification's time went
    # a >10x speedup over every baseline, re-verified in a fresh process (verifier/reverify.py)
    suspicious_speedup: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.result, dict):  # decoded from a payload
            object.__setattr__(self, "result", decode_result(self.result))
        if self.result.breakdown is not None:
            breakdown = self.breakdown or self.result.breakdown
            object.__setattr__(self, "result", replace(self.result, breakdown=None))
            object.__setattr__(self, "breakdown", breakdown)
        if isinstance(self.breakdown, dict):  # decoded from a payload
            object.__setattr__(self, "breakdown", TimeBreakdown.from_dict(self.breakdown))
        if self.result.suspicious_speedup and not self.suspicious_speedup:
            object.__setattr__(self, "suspicious_speedup", True)

    def to_payload(self) -> dict[str, Any]:
        payload = super().to_payload()
        del payload["result"]["breakdown"]
        return payload


@register
@dataclass(frozen=True)
class VerifyRepeated(Event):
    """The step's candidate is the same code as step `repeat_of`'s: that result stands."""

    TYPE: ClassVar[str] = "verify.repeated"
    step: int
    repeat_of: int


@register
@dataclass(frozen=True)
class NodeCreated(Event):
    """A search made a new candidate node; the step of that number produces and verifies it
    (docs/search.md). Logs without nodes read as a chain, one node per code step."""

    TYPE: ClassVar[str] = "node.created"
    step: int
    node_id: str
    parents: list[str]  # empty for a root
    agent: str  # the provider asked for the node's code
    idea: str  # what it tries: a launch configuration, a repair, "first candidate"
    alternative: dict[str, Any] | None = None  # the agent's alternative the search picked
    round: int = 1  # the search round that made it (nodes of a round run concurrently)


@register
@dataclass(frozen=True)
class ConductorDecided(Event):
    TYPE: ClassVar[str] = "conductor.decided"
    step: int
    action: str  # finish | fix_code | fix_design | optimize | stop
    reason: str
    by: str = "rules"  # rules | llm


@register
@dataclass(frozen=True)
class TaskFinished(Event):
    TYPE: ClassVar[str] = "task.finished"
    success: bool
    reason: str  # verified | limit_reached | unsupported | agent_error | no_improvement
    message: str
    steps: int
    best_step: int | None = None


@register
@dataclass(frozen=True)
class TaskInterrupted(Event):
    """The run stopped before its end and can be resumed: a signal, or an LLM outage."""

    TYPE: ClassVar[str] = "task.interrupted"
    signal: str  # SIGINT | SIGTERM | llm_outage | ...
    state: str
    step: int
    message: str = ""  # what happened, for a person (an outage: the endpoint and the tries)


@register
@dataclass(frozen=True)
class TaskResumed(Event):
    TYPE: ClassVar[str] = "task.resumed"
    state: str
    step: int
    redo: str  # what is redone: the state that was in flight


# --- LLM calls ----------------------------------------------------------------------------


@register
@dataclass(frozen=True)
class LLMRequested(Event):
    TYPE: ClassVar[str] = "llm.requested"
    call_id: str
    step: int
    role: str
    model: str
    messages: list[dict[str, Any]]


@register
@dataclass(frozen=True)
class LLMPartial(Event):
    TYPE: ClassVar[str] = "llm.partial"
    call_id: str
    text: str


@register
@dataclass(frozen=True)
class LLMRetried(Event):
    TYPE: ClassVar[str] = "llm.retried"
    call_id: str
    attempt: int
    reason: str
    wait_s: float


@register
@dataclass(frozen=True)
class LLMWaiting(Event):
    """Nothing has arrived from the endpoint for `waited_s` seconds; the call goes on."""

    TYPE: ClassVar[str] = "llm.waiting"
    call_id: str
    endpoint: str
    waited_s: float


@register
@dataclass(frozen=True)
class LLMResponded(Event):
    TYPE: ClassVar[str] = "llm.responded"
    call_id: str
    text: str
    usage: dict[str, Any]
    latency_s: float
    cost_usd: float


@register
@dataclass(frozen=True)
class LLMFailed(Event):
    TYPE: ClassVar[str] = "llm.failed"
    call_id: str
    reason: str


# --- the shared `devices` stream: pool occupancy for the dashboard ------------------------

DEVICES_STREAM = "devices"


@register
@dataclass(frozen=True)
class PoolLeased(Event):
    TYPE: ClassVar[str] = "pool.leased"
    device: str
    holder: str  # task id
    queue_length: int


@register
@dataclass(frozen=True)
class PoolReleased(Event):
    TYPE: ClassVar[str] = "pool.released"
    device: str
    holder: str
    held_s: float
    queue_length: int


@register
@dataclass(frozen=True)
class PoolQuarantined(Event):
    TYPE: ClassVar[str] = "pool.quarantined"
    device: str
    reason: str
    failures: int


# --- reading and writing ------------------------------------------------------------------

# Upcasters: (type, stored version) -> function turning that payload into the next version.
UPCASTERS: dict[tuple[str, int], Any] = {}


class UnknownEventType(EventDecodeError):
    pass


def decode(type_: str, version: int, payload: dict[str, Any]) -> Event:
    """Turn a stored (type, version, payload) into the current event dataclass."""
    cls = EVENT_TYPES.get(type_)
    if cls is None:
        raise UnknownEventType(f"unknown event type {type_!r}")
    if version > cls.VERSION:
        raise EventDecodeError(
            f"{type_} v{version} is newer than this aikg understands (v{cls.VERSION}); upgrade aikg"
        )
    while version < cls.VERSION:
        payload = UPCASTERS[(type_, version)](payload)
        version += 1
    return cls.from_payload(payload)
