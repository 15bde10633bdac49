"""Replay: run a recorded task again from its log and compare every step.

The same runner drives the same state graph; only its parts are swapped: a recorder that
compares each event with the recorded one instead of appending, providers that serve the
recorded designs and code (the built-in agent is run again and compared), and a verifier
that serves the recorded results (or, with `reverify`, verifies again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agents.types import AgentError, AgentRequest, Candidate, Design, NoCode, Unsupported
from machine import events as ev
from machine.describe import describe
from machine.state import TaskState, apply, fold
from verifier.result import VerifyJob, VerifyResult

# The events a run decides by itself; device, LLM and resume bookkeeping are not compared.
COMPARED = (
    ev.StepStarted,
    ev.DesignProduced,
    ev.CodeProduced,
    ev.CodeMissing,
    ev.VerifyFinished,
    ev.VerifyRepeated,
    ev.ConductorDecided,
    ev.NodeCreated,
    ev.TaskFinished,
)
COMPARED_TYPES = {cls.TYPE for cls in COMPARED}


class ReplayStop(Exception):
    """The replay reached the end of what it was asked to replay."""


class EventsDiverged(Exception):
    """A replayed event differs from the recorded one."""


@dataclass(frozen=True)
class TraceLine:
    seq: int
    step: int
    type: str
    summary: str
    offset_s: float  # recorded time since task.created
    difference: str | None = None


@dataclass
class Recorded:
    """A recorded stream, decoded: `(seq, ts, event)` in order."""

    events: list[tuple[int, float, ev.Event]]

    @property
    def created(self) -> ev.TaskCreated:
        first = self.events[0][2]
        assert isinstance(first, ev.TaskCreated)
        return first

    def of_type(self, cls: type[Any]) -> list[Any]:
        return [e for _, _, e in self.events if isinstance(e, cls)]

    @property
    def given(self) -> int:
        """How many events the run did not make itself: `task.created`, and the lineage a
        fork from a search node copied (docs/search.md, "Fork")."""
        return 1 + int((self.created.forked_from or {}).get("copied", 0))


def difference(want: ev.Event, got: ev.Event, *, loose_verify: bool) -> str | None:
    """Why `got` is not the recorded `want`, or None when they agree."""
    if type(want) is not type(got):
        return f"expected {want.TYPE}, got {got.TYPE}"
    a, b = want.to_payload(), got.to_payload()
    if isinstance(want, ev.VerifyFinished):
        keys = ("passed", "stage") if loose_verify else tuple(a["result"])
        for key in keys:
            if a["result"].get(key) != b["result"].get(key):
                return (
                    f"result.{key}: recorded {a['result'].get(key)!r}, now {b['result'].get(key)!r}"
                )
        # where the time went differs run to run, like the device
        ignored = {"result": None, "device": None, "breakdown": None}
        a, b = {**a, **ignored}, {**b, **ignored}
    for key in a:
        if a[key] != b[key]:
            if isinstance(a[key], str) and isinstance(b[key], str):
                return f"{key}: {_first_line_difference(a[key], b[key])}"
            return f"{key}: recorded {_short(a[key])}, now {_short(b[key])}"
    return None


def _first_line_difference(old: str, new: str) -> str:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (was, now) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if was != now:
            return f"line {number}: recorded {_short(was)}, now {_short(now)}"
    return f"recorded {len(old_lines)} lines, now {len(new_lines)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ReplayRecorder:
    """Stands in for `Recorder`: compares instead of appending."""

    def __init__(self, recorded: Recorded, until: int | None, *, loose_verify: bool) -> None:
        self.stream = recorded.created.task_id
        start_ts = recorded.events[0][1]
        given = recorded.given
        self.expected = [
            (seq, ts - start_ts, e)
            for seq, ts, e in recorded.events[given:]
            if e.TYPE in COMPARED_TYPES and (until is None or seq <= until)
        ]
        self.loose_verify = loose_verify
        self.state: TaskState = fold((seq, e) for seq, _, e in recorded.events[:given])
        self.trace: list[TraceLine] = []
        self._observers: list[Callable[[ev.Event, TaskState], None]] = []

    def subscribe(self, observer: Callable[[ev.Event, TaskState], None]) -> None:
        self._observers.append(observer)

    async def append(self, *events: ev.Event) -> TaskState:
        for event in events:
            if event.TYPE not in COMPARED_TYPES:
                self.state = apply(self.state, event, self.state.last_seq)
                continue
            if not self.expected:
                raise ReplayStop
            seq, offset, want = self.expected.pop(0)
            self.state = apply(self.state, event, seq)
            why = difference(want, event, loose_verify=self.loose_verify)
            self.trace.append(
                TraceLine(
                    seq, self.state.step, event.TYPE, describe(event) or event.TYPE, offset, why
                )
            )
            for observer in self._observers:
                observer(event, self.state)
            if why is not None:
                raise EventsDiverged(f"seq {seq} ({want.TYPE}): {why}")
        return self.state


class RecordedProvider:
    """Serves the designs and code a role produced in the recorded run, step by step."""

    def __init__(self, name: str, recorded: Recorded, role: str) -> None:
        self.name = name
        self._designs = {e.step: e for e in recorded.of_type(ev.DesignProduced)}
        self._codes = {e.step: e for e in recorded.of_type(ev.CodeProduced)}
        self._missing = {e.step: e for e in recorded.of_type(ev.CodeMissing) if e.role == role}

    def _raise_missing(self, step: int) -> None:
        missing = self._missing.get(step)
        if missing is None:
            raise EventsDiverged(f"step {step}: the recorded run has no output for this request")
        if missing.reason == "unsupported":
            raise Unsupported(missing.ops, missing.message)
        if missing.reason == "no_code":
            raise NoCode(missing.message)
        error = AgentError(missing.message)
        error.reason = missing.reason
        raise error

    async def design(self, request: AgentRequest) -> Design:
        recorded = self._designs.get(request.step)
        if recorded is None:
            self._raise_missing(request.step)
        assert recorded is not None
        return Design(recorded.text, dict(recorded.notes))

    async def code(self, request: AgentRequest) -> Candidate:
        recorded = self._codes.get(request.step)
        if recorded is None:
            self._raise_missing(request.step)
        assert recorded is not None
        return Candidate(recorded.code, dict(recorded.notes))


@dataclass
class RecordedVerifier:
    """Serves the recorded verification results in the order they were recorded (a job
    does not carry its step; the replayed run verifies the same steps in the same order)."""

    recorded: Recorded
    _results: list[VerifyResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        own = self.recorded.events[self.recorded.given :]
        self._results = [e.result for _, _, e in own if isinstance(e, ev.VerifyFinished)]

    async def verify(self, job: VerifyJob) -> VerifyResult:
        await asyncio.sleep(0)
        if not self._results:
            raise EventsDiverged("the replay verifies more often than the recorded run did")
        return self._results.pop(0)

    async def close(self) -> None:
        return None


def _agent_name(recorded: Recorded, role: str) -> str:
    produced = ev.DesignProduced if role == "designer" else ev.CodeProduced
    names = [e.agent for e in recorded.of_type(produced)]
    names += [e.agent for e in recorded.of_type(ev.CodeMissing) if e.role == role]
    return names[0] if names else role


@dataclass
class ReplayReport:
    task_id: str
    trace: list[TraceLine]
    divergence: str | None
    replayed_until: int | None

    @property
    def ok(self) -> bool:
        return self.divergence is None


async def replay_task(
    recorded: Recorded,
    *,
    until: int | None = None,
    reverify: Any = None,
) -> ReplayReport:
    """Replay a recorded stream. `reverify`: a verifier to run the checks again with."""
    from agents.replay import ReplayBackend
    from devicepool import DevicePool
    from machine.agent_factory import AgentContext, make_provider
    from machine.config import Config
    from machine.llm_wiring import replay_recording
    from machine.runner import TaskRun, drive

    spec = recorded.created
    config = Config.from_recorded(spec.config)
    # this machine's devices are not needed: recorded results stand in for verification
    device_pool = DevicePool([spec.backend if spec.backend == "cpu" else f"{spec.backend}:0"])
    recorder = ReplayRecorder(recorded, until, loose_verify=reverify is not None)
    roles = config.agents
    context = AgentContext(sandbox=config.verifier.sandbox)  # the built-in agent's process
    providers = []
    for role in ("designer", "coder"):
        settings = roles.role(role)
        if settings.provider == "builtin":
            providers.append(make_provider(role, settings, context))
        else:
            providers.append(RecordedProvider(_agent_name(recorded, role), recorded, role))
    verifier = reverify or RecordedVerifier(recorded)
    analyst = None
    if config.conductor.llm_analysis:
        calls = [
            c
            for c in replay_recording([e for _, _, e in recorded.events])
            if c["role"] == "conductor"
        ]
        analyst = ReplayBackend(calls)
    run = TaskRun(
        spec,
        config,
        device_pool,
        recorder,
        verifier,
        providers[0],
        providers[1],
        analyst,  # type: ignore[arg-type]
    )
    divergence = None
    try:
        await drive(run)
    except ReplayStop:
        pass
    except (EventsDiverged, AgentError) as exc:
        divergence = str(exc)
    finally:
        await context.close()
    if divergence is None and until is None and recorder.expected:
        seq, _, want = recorder.expected[0]
        divergence = f"seq {seq} ({want.TYPE}): the replay ended before this recorded event"
    return ReplayReport(spec.task_id, recorder.trace, divergence, until)
