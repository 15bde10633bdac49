"""The record types that go into and come out of the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NewEvent:
    """An event to append: its type, JSON payload and the schema version of that payload."""

    type: str
    payload: Any
    version: int = 1
    ts: float | None = None  # None: the time of the append; set only to import history


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: global `position`, per-stream `seq` (from 1), unix `ts` seconds."""

    position: int
    stream: str
    seq: int
    type: str
    version: int
    ts: float
    payload: Any


@dataclass(frozen=True)
class StreamInfo:
    """Summary of one stream (one task)."""

    stream: str
    last_seq: int
    n_events: int
    first_ts: float
    last_ts: float
