"""Errors the event store raises: each message is one line naming the problem and the fix."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class NotAnAikgDatabase(StoreError):
    """The file exists but is not an aikg event store; the store never writes to it."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(
            f"{path} is not an aikg event store ({reason}); it was left untouched: "
            "pass --db or set AIKG_DB to a new or existing aikg file"
        )


class NewerSchema(StoreError):
    """The store was written by a newer aikg than this one."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        self.path = path
        self.found = found
        self.known = known
        super().__init__(
            f"{path} has store schema v{found} but this aikg knows only up to v{known}; "
            "upgrade aikg (pip install -U aikg) to open it"
        )


class DatabaseLocked(StoreError):
    """Another connection held the write lock for longer than the busy timeout."""

    def __init__(self, path: Path, busy_timeout_s: float) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        super().__init__(
            f"{path} stayed locked by another writer for over {busy_timeout_s:g}s: wait for "
            "that process to finish, or wait longer (--busy-timeout, store.busy_timeout_s)"
        )

    @property
    def interruption(self) -> str:
        """Why a task stopped, as `task.interrupted_by`: it is resumable."""
        return (
            f"a write lock on {self.path} held by another process for over "
            f"{self.busy_timeout_s:g}s (wait longer with --busy-timeout or store.busy_timeout_s)"
        )


class StreamConflict(StoreError):
    """The stream moved on since the writer last read it (optimistic concurrency)."""

    def __init__(self, stream: str, expected_seq: int, actual_seq: int) -> None:
        self.stream = stream
        self.expected_seq = expected_seq
        self.actual_seq = actual_seq
        super().__init__(
            f"stream {stream!r} is at seq {actual_seq}, not the expected {expected_seq}: "
            "another writer appended to it; re-read the stream and retry"
        )


class StoreNotFound(StoreError):
    """A read-only open found no initialised store at the path."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(
            f"no aikg event store at {path} ({reason}); run a task first to create it, "
            "or pass --db / set AIKG_DB to an existing store"
        )


class ReadOnlyStore(StoreError):
    """An append was attempted on a store opened with readonly=True."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"{path} was opened read-only, so it cannot be appended to; "
            "open it with readonly=False to write"
        )


class InvalidPayload(StoreError):
    """An event payload cannot be written as JSON."""

    def __init__(self, event_type: str, cause: Exception) -> None:
        self.event_type = event_type
        super().__init__(
            f"payload of event {event_type!r} is not JSON-serialisable ({cause}); "
            "use only dicts with str keys, lists, str, int, float, bool and None"
        )


class WalReplaced(StoreError):
    """The -wal file was removed or replaced while this connection had the store open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"the -wal file of {path} was removed while this process had it open (another "
            "program deleted it, or the file is on a network filesystem), so the last events "
            f"may be lost: stop every aikg process on it, then run `aikg db check --db {path}`"
        )
