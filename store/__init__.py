"""The append-only event log of aikg: one SQLite file, one row per event.

store = await EventStore.open(resolve_db_path(cli_value, os.environ))
await store.append("task-1", [NewEvent("task.created", {...})], expected_seq=0)
"""

from __future__ import annotations

from store.errors import (
    DatabaseLocked,
    InvalidPayload,
    NewerSchema,
    NotAnAikgDatabase,
    ReadOnlyStore,
    StoreError,
    StoreNotFound,
    StreamConflict,
    WalReplaced,
)
from store.event_store import DEFAULT_BUSY_TIMEOUT_S, EventStore
from store.events import NewEvent, StoredEvent, StreamInfo
from store.paths import resolve_db_path

__all__ = [
    "DEFAULT_BUSY_TIMEOUT_S",
    "DatabaseLocked",
    "EventStore",
    "InvalidPayload",
    "NewEvent",
    "NewerSchema",
    "NotAnAikgDatabase",
    "ReadOnlyStore",
    "StoreError",
    "StoreNotFound",
    "StoredEvent",
    "StreamConflict",
    "StreamInfo",
    "WalReplaced",
    "resolve_db_path",
]
