"""Appends a task's events to the store and keeps its folded state in step."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from machine import events as ev
from machine.state import TaskState, apply, fold
from store import EventStore, NewEvent, StoredEvent

Observer = Callable[[ev.Event, TaskState], None]


def decode_stored(stored: StoredEvent) -> ev.Event:
    return ev.decode(stored.type, stored.version, stored.payload)


async def load_state(store: EventStore, stream: str) -> TaskState:
    stored = await store.read_stream(stream)
    return fold((s.seq, decode_stored(s)) for s in stored)


class Recorder:
    """The one writer of a stream in this process. Observers see every appended event."""

    def __init__(self, store: EventStore, stream: str, state: TaskState) -> None:
        self.store = store
        self.stream = stream
        self.state = state
        self._observers: list[Observer] = []
        self._appending = asyncio.Lock()  # a search's nodes append side by side

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    async def append(self, *events: ev.Event) -> TaskState:
        """Append atomically; a concurrent writer of this stream raises StreamConflict.

        Shielded: a cancellation (Ctrl-C) never leaves the log and the folded state apart.
        """
        return await asyncio.shield(self._append(events))

    async def _append(self, events: tuple[ev.Event, ...]) -> TaskState:
        batch = [NewEvent(e.TYPE, e.to_payload(), e.VERSION) for e in events]
        async with self._appending:
            stored = await self.store.append(self.stream, batch, expected_seq=self.state.last_seq)
            for record, event in zip(stored, events, strict=True):
                self.state = apply(self.state, event, record.seq)
                for observer in self._observers:
                    observer(event, self.state)
            return self.state
