"""The dashboard's read model: per-stream folded state, kept up to date event by event.

`Projection.apply(events)` takes stored events in position order and updates only the
streams they touch, so a live store of 100 tasks and 50,000 events never refolds from
the start. Replay uses `TaskRecord.as_of(index)`, which folds a prefix of one stream.
Pure: nothing here waits, reads the store or touches the screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from machine import events as ev
from machine.state import TaskState, apply
from store import StoredEvent


@dataclass
class LLMCall:
    """One LLM call as far as its events go: prompt, streamed text, reply or failure."""

    call_id: str
    step: int = 0
    role: str = ""
    model: str = ""
    messages: list[dict[str, object]] = field(default_factory=list)
    text: str = ""
    status: str = "requested"  # requested | streaming | responded | failed
    retries: list[str] = field(default_factory=list)
    tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float | None = None
    failure: str | None = None


def apply_llm(calls: dict[str, LLMCall], event: ev.Event) -> None:
    """Update the call table in place with one event (ignores non-LLM events)."""
    if isinstance(event, ev.LLMRequested):
        calls[event.call_id] = LLMCall(
            event.call_id, event.step, event.role, event.model, list(event.messages)
        )
        return
    call_id = getattr(event, "call_id", None)
    if call_id is None:
        return
    call = calls.setdefault(call_id, LLMCall(call_id))
    if isinstance(event, ev.LLMPartial):
        call.text, call.status = event.text, "streaming"
    elif isinstance(event, ev.LLMRetried):
        call.retries.append(f"attempt {event.attempt}: {event.reason} (waited {event.wait_s:g}s)")
    elif isinstance(event, ev.LLMResponded):
        call.text, call.status = event.text, "responded"
        call.tokens = int((event.usage or {}).get("total_tokens") or 0)
        call.cost_usd, call.latency_s = float(event.cost_usd or 0.0), event.latency_s
    elif isinstance(event, ev.LLMFailed):
        call.status, call.failure = "failed", event.reason


def decode(stored: StoredEvent) -> ev.Event | None:
    """The event dataclass, or None for a type or payload this version cannot read."""
    try:
        return ev.decode(stored.type, stored.version, stored.payload)
    except (ev.EventDecodeError, TypeError, KeyError):
        return None


@dataclass(frozen=True)
class Snapshot:
    """A task as of one event: the folded state and its LLM calls."""

    state: TaskState
    calls: dict[str, LLMCall]
    index: int  # index of the last applied event in the stream (-1: none)


@dataclass
class TaskRecord:
    """One stream: its raw events, decoded events and the live folded state."""

    stream: str
    events: list[StoredEvent] = field(default_factory=list)
    decoded: list[ev.Event | None] = field(default_factory=list)
    state: TaskState = field(default_factory=TaskState)
    calls: dict[str, LLMCall] = field(default_factory=dict)
    first_ts: float = 0.0
    last_ts: float = 0.0

    def add(self, stored: StoredEvent) -> None:
        event = decode(stored)
        if not self.events:
            self.first_ts = stored.ts
        self.events.append(stored)
        self.decoded.append(event)
        self.last_ts = stored.ts
        if event is None:
            return
        self.state = apply(self.state, event, stored.seq)
        apply_llm(self.calls, event)

    @property
    def is_task(self) -> bool:
        return self.state.spec is not None

    def as_of(self, index: int) -> Snapshot:
        """Fold events[0..index] afresh (replay); index is clamped into range."""
        index = max(-1, min(index, len(self.events) - 1))
        state = TaskState()
        calls: dict[str, LLMCall] = {}
        for stored, event in zip(self.events[: index + 1], self.decoded[: index + 1], strict=True):
            if event is not None:
                state = apply(state, event, stored.seq)
                apply_llm(calls, event)
        return Snapshot(state, calls, index)

    def live(self) -> Snapshot:
        return Snapshot(self.state, self.calls, len(self.events) - 1)

    def end_ts(self) -> float | None:
        """When the task finished, else None (still running)."""
        return self.last_ts if self.state.finished is not None else None


@dataclass
class DeviceRecord:
    name: str
    holder: str | None = None
    since_ts: float = 0.0
    quarantined: str | None = None


@dataclass
class Devices:
    """The `devices` stream folded: who holds what, the queue, and busy-count history."""

    devices: dict[str, DeviceRecord] = field(default_factory=dict)
    queue_length: int = 0
    history: list[tuple[float, int]] = field(default_factory=list)  # (ts, busy after it)

    def add(self, stored: StoredEvent) -> None:
        event = decode(stored)
        if isinstance(event, ev.PoolLeased):
            device = self.devices.setdefault(event.device, DeviceRecord(event.device))
            device.holder, device.since_ts = event.holder, stored.ts
            self.queue_length = event.queue_length
        elif isinstance(event, ev.PoolReleased):
            device = self.devices.setdefault(event.device, DeviceRecord(event.device))
            device.holder, device.since_ts = None, stored.ts
            self.queue_length = event.queue_length
        elif isinstance(event, ev.PoolQuarantined):
            device = self.devices.setdefault(event.device, DeviceRecord(event.device))
            device.quarantined = f"{event.reason} ({event.failures} failures)"
        else:
            return
        self.history.append((stored.ts, self.busy))

    @property
    def busy(self) -> int:
        return sum(1 for d in self.devices.values() if d.holder is not None)

    def utilisation(self, now: float, buckets: int = 30, width_s: float = 10.0) -> list[float]:
        """Mean fraction of devices busy in each of `buckets` windows ending at `now`."""
        total = len(self.devices)
        start = now - buckets * width_s
        out = [0.0] * buckets
        if not total:
            return out
        busy, t = 0, start
        for ts, after in [*self.history, (now, self.busy)]:
            if ts > start:
                _spread(out, start, width_s, max(t, start), min(ts, now), busy / total)
                t = ts
            busy = after
        return out


def _spread(out: list[float], start: float, width: float, a: float, b: float, v: float) -> None:
    """Add value `v` held over [a, b) to the time-weighted buckets."""
    while a < b:
        i = min(int((a - start) // width), len(out) - 1)
        end = min(b, start + (i + 1) * width)
        out[i] += v * (end - a) / width
        a = end


@dataclass
class Projection:
    """Every stream of the store, folded; `position` is the last event applied."""

    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    devices: Devices = field(default_factory=Devices)
    position: int = 0
    last_ts: float = 0.0

    def apply(self, events: Iterable[StoredEvent]) -> set[str]:
        """Apply events in position order; returns the streams that changed."""
        changed: set[str] = set()
        for stored in events:
            if stored.position <= self.position:
                continue
            self.position, self.last_ts = stored.position, stored.ts
            changed.add(stored.stream)
            if stored.stream == ev.DEVICES_STREAM:
                self.devices.add(stored)
                continue
            record = self.tasks.get(stored.stream)
            if record is None:
                record = self.tasks[stored.stream] = TaskRecord(stored.stream)
            record.add(stored)
        return changed

    def task_records(self) -> list[TaskRecord]:
        return [r for r in self.tasks.values() if r.is_task]
