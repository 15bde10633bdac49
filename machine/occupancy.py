"""Publishes a DevicePool's occupancy into the shared `devices` stream.

The pool calls its listeners synchronously on the lease path, so the listener only
queues an event; a background task appends queued events in batches through its own
store connection. `close()` (or leaving `publishing_occupancy`) flushes everything.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from devicepool import DevicePool, Lease, Quarantine
from machine import events as ev
from store import DEFAULT_BUSY_TIMEOUT_S, EventStore, NewEvent, StoreError


class OccupancyPublisher:
    """Turns pool notifications into `pool.*` events in `DEVICES_STREAM`."""

    def __init__(
        self, db_path: str | Path, pool: DevicePool, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
    ) -> None:
        self.db_path = db_path
        self.busy_timeout_s = busy_timeout_s
        self.pool = pool
        self._queue: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.pool.subscribe(self.on_pool_change)
        self._writer = asyncio.create_task(self._write_loop())

    def on_pool_change(self, what: str, info: Lease | Quarantine) -> None:
        waiting = self.pool.queue_length
        if what == "leased" and isinstance(info, Lease):
            event: ev.Event = ev.PoolLeased(info.device, info.holder, waiting)
        elif what == "released" and isinstance(info, Lease):
            held = round(time.time() - info.since, 3)
            event = ev.PoolReleased(info.device, info.holder, held, waiting)
        elif what == "quarantined" and isinstance(info, Quarantine):
            event = ev.PoolQuarantined(info.device, info.reason, info.failures)
        else:
            return
        self._queue.put_nowait(event)

    async def close(self) -> None:
        """Stop listening and append whatever is still queued."""
        self.pool.unsubscribe(self.on_pool_change)
        self._queue.put_nowait(None)
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write_loop(self) -> None:
        opening = EventStore.open(self.db_path, busy_timeout_s=self.busy_timeout_s)
        async with await opening as store:
            while True:
                batch = [await self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                events = [e for e in batch if e is not None]
                if events:
                    await self._append(store, events)
                if len(events) < len(batch):
                    return

    @staticmethod
    async def _append(store: EventStore, events: list[ev.Event]) -> None:
        batch = [NewEvent(e.TYPE, e.to_payload(), e.VERSION) for e in events]
        try:
            await store.append(ev.DEVICES_STREAM, batch)
        except StoreError as exc:  # occupancy is for the dashboard: never stop the tasks
            print(f"aikg: warning: {len(batch)} device events not recorded: {exc}", file=sys.stderr)


_sessions: dict[int, tuple[OccupancyPublisher, int]] = {}


@asynccontextmanager
async def publishing_occupancy(
    pool: DevicePool, db_path: str | Path, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
) -> AsyncIterator[None]:
    """Publish `pool`'s occupancy to the log at `db_path` while any borrower is inside.

    One publisher per pool per process: the first borrower starts it, the last one
    flushes and closes it.
    """
    publisher, users = _sessions.get(id(pool), (None, 0))
    if publisher is None:
        publisher = OccupancyPublisher(db_path, pool, busy_timeout_s)
        publisher.start()
    _sessions[id(pool)] = (publisher, users + 1)
    try:
        yield
    finally:
        publisher, users = _sessions[id(pool)]
        if users <= 1:
            del _sessions[id(pool)]
            await publisher.close()
        else:
            _sessions[id(pool)] = (publisher, users - 1)
