"""The plain request and reply types every agent provider speaks.

The machine builds a request from its folded state; a provider returns a design or a
candidate. Nothing here knows about events, the store or the state machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Target:
    """Where the kernel must run."""

    backend: str  # cuda | cpu | ascend
    arch: str  # h100, a100, cpu, ascend910b4, ...
    impl_type: str = "triton"  # triton | swft


@dataclass(frozen=True)
class Attempt:
    """One earlier code step, summarised for the next prompt or the search."""

    step: int
    passed: bool
    stage: str | None  # verifier stage of failure, None when it passed
    message: str
    candidate_time_ms: float | None = None  # profile mode only
    launch_config: dict[str, Any] | None = None  # what the builtin agent tried


@dataclass(frozen=True)
class Inspiration:
    """Another search node shown to an agent: a good kernel of another branch or a failure."""

    node_id: str
    code: str
    passed: bool
    summary: str  # "1.42x vs torch.compile, 0.81 of speed-of-light" or "stage: message"
    time_ms: float | None = None


@dataclass(frozen=True)
class SpeedOfLight:
    """The task's lower bound on time: bytes moved over copy bandwidth, FLOPs over peak."""

    bytes_moved: int
    flops: int
    dtype: str
    bound_ms: float | None  # None when the device's rates are unknown (CPU)
    basis: str  # "memory" | "compute", the larger of the two bounds


@dataclass(frozen=True)
class AgentRequest:
    """Everything a Designer or Coder may use. The same type serves both roles."""

    op_name: str
    reference_source: str
    framework: str  # torch | numpy | mindspore
    target: Target
    task_type: str  # precision_only | profile
    step: int  # 1-based step number this request belongs to
    design: str | None = None  # current design (for the coder)
    previous_code: str | None = None
    feedback: dict[str, Any] | None = None  # last verifier result, as a dict
    advice: str | None = None  # the Conductor's reason for this step
    history: tuple[Attempt, ...] = ()
    node_id: str | None = None
    parent_id: str | None = None
    inspirations: tuple[Inspiration, ...] = ()
    speed_of_light: SpeedOfLight | None = None
    breakdown: dict[str, float] | None = None  # the parent's verifier time breakdown
    # the search's pick among the alternatives the agent listed in its parent's notes
    # (the built-in agent: a launch configuration); None lets the agent choose
    alternative: dict[str, Any] | None = None


@dataclass(frozen=True)
class Design:
    text: str
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    code: str
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. {"launch_config": {...}}


class AgentError(Exception):
    """An agent could not produce what was asked; `reason` is a stable short word."""

    reason = "agent_error"


class Unsupported(AgentError):
    """The provider cannot handle this reference (the builtin agent's lowering limits)."""

    reason = "unsupported"

    def __init__(self, ops: list[str], message: str | None = None) -> None:
        self.ops = list(ops)
        super().__init__(message or f"cannot lower: {', '.join(self.ops)}")


class NoCode(AgentError):
    """A reply held no usable code; the text says why, for the next attempt."""

    reason = "no_code"


class Provider(Protocol):
    """One provider per role; `name` goes into events."""

    name: str

    async def design(self, request: AgentRequest) -> Design: ...

    async def code(self, request: AgentRequest) -> Candidate: ...
