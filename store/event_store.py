"""EventStore: the append-only event log of every task, in one SQLite file (WAL mode).

Writers append in `BEGIN IMMEDIATE` transactions, so seq numbers are assigned under the
database write lock and two processes appending to one stream can never fork its history.
Readers (the dashboard) open the same file read-only and see each commit as it lands.
A writer records itself at its first append (store/writers.py) and checks after every
commit that its -wal is still the file on disk, so no loss under concurrency goes unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiosqlite

from store.errors import (
    DatabaseLocked,
    InvalidPayload,
    NotAnAikgDatabase,
    ReadOnlyStore,
    StoreNotFound,
    StreamConflict,
    WalReplaced,
)
from store.events import NewEvent, StoredEvent, StreamInfo
from store.schema import check_header, check_schema, initialise
from store.writers import (
    RECORD_CLOSE,
    RECORD_WRITE,
    REGISTER,
    WRITER_TABLES,
    current_identity,
    wal_identity,
)

_COLUMNS = "position, stream, seq, type, version, ts, payload"
_INSERT = "INSERT INTO events (stream, seq, type, version, ts, payload) VALUES (?, ?, ?, ?, ?, ?)"
_TAIL_BATCH = 1000
DEFAULT_BUSY_TIMEOUT_S = 30.0  # the config's store.busy_timeout_s


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "is locked" in str(exc)


def _encode(event: NewEvent) -> str:
    try:
        return json.dumps(event.payload, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidPayload(event.type, exc) from exc


def _decode(row: Sequence[Any]) -> StoredEvent:
    position, stream, seq, type_, version, ts, payload = row
    return StoredEvent(position, stream, seq, type_, version, ts, json.loads(payload))


async def _connect(path: Path, mode: str, busy_timeout_s: float) -> aiosqlite.Connection:
    return await aiosqlite.connect(
        f"file:{quote(str(path))}?mode={mode}",
        uri=True,
        isolation_level=None,  # autocommit: transactions are explicit BEGIN ... COMMIT
        timeout=busy_timeout_s,
    )


def _readonly_mode(path: Path) -> str:
    """`ro`, or `ro&immutable=1` where SQLite could not create the -shm a WAL reader needs
    (a read-only directory or file system) and no -wal holds commits beyond the main file."""
    wal = path.with_name(path.name + "-wal")
    if os.access(path.parent, os.W_OK) or wal.exists():
        return "ro"
    return "ro&immutable=1"


async def _ensure_wal(conn: aiosqlite.Connection, busy_timeout_s: float) -> None:
    """Switch to WAL once (it persists in the file). The switch needs the file to itself and
    ignores the busy handler, so a writer opening beside another one retries it."""
    deadline = time.monotonic() + busy_timeout_s
    while True:
        async with conn.execute("PRAGMA journal_mode") as cursor:
            row = await cursor.fetchone()
        if row and str(row[0]).lower() == "wal":
            return
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


class EventStore:
    """One open store file. Use `await EventStore.open(path)`, not the constructor."""

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, readonly: bool, busy_timeout_s: float
    ) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()  # one statement sequence at a time on the connection
        self._closed = False
        self.path = path
        self.readonly = readonly
        self.busy_timeout_s = busy_timeout_s
        self._writer_id: int | None = None  # registered in aikg_writers at the first append
        self._wal: str | None = None  # the -wal file this connection writes (device:inode)

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        readonly: bool = False,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> EventStore:
        """Open (a writer creates the file and its parent directory) after checking the file."""
        abs_path = Path(path).expanduser().absolute()
        opener = cls._open_readonly if readonly else cls._open_writer
        try:
            conn = await opener(abs_path, busy_timeout_s)
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise DatabaseLocked(abs_path, busy_timeout_s) from exc
            raise
        except sqlite3.DatabaseError as exc:
            raise NotAnAikgDatabase(abs_path, f"SQLite cannot read it: {exc}") from exc
        return cls(conn, abs_path, readonly, busy_timeout_s)

    @staticmethod
    async def _open_readonly(path: Path, busy_timeout_s: float) -> aiosqlite.Connection:
        if not path.exists():
            raise StoreNotFound(path, "no such file")
        if path.is_dir():
            raise NotAnAikgDatabase(path, "a directory")
        if not await check_header(path, busy_timeout_s):
            raise StoreNotFound(path, "the file is empty")
        conn = await _connect(path, _readonly_mode(path), busy_timeout_s)
        try:
            await check_schema(conn, path)
        except BaseException:
            await conn.close()
            raise
        return conn

    @staticmethod
    async def _open_writer(path: Path, busy_timeout_s: float) -> aiosqlite.Connection:
        if path.is_dir():
            raise NotAnAikgDatabase(path, "a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        is_store = path.exists() and await check_header(path, busy_timeout_s)
        conn = await _connect(path, "rwc", busy_timeout_s)
        try:
            if is_store:
                await check_schema(conn, path)
            else:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    await initialise(conn, path)
                    await conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                    raise
            await _ensure_wal(conn, busy_timeout_s)
            # WAL + NORMAL never corrupts; a power cut may lose the last commits, which
            # resume redoes as the in-flight step.
            await conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._writer_id is not None:
                # Lets `aikg db check` tell "closed" from "died"; its pid check covers a miss.
                with contextlib.suppress(sqlite3.Error):
                    await self._conn.execute(RECORD_CLOSE, (time.time(), self._writer_id))
            await self._conn.close()

    async def __aenter__(self) -> EventStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def append(
        self, stream: str, events: Iterable[NewEvent], expected_seq: int | None = None
    ) -> list[StoredEvent]:
        """Append atomically; `expected_seq` is the last seq the writer saw (0: new stream)."""
        if self.readonly:
            raise ReadOnlyStore(self.path)
        # Shielded so a cancelled caller never leaves the connection inside a transaction.
        return await asyncio.shield(self._append(stream, list(events), expected_seq))

    async def _append(
        self, stream: str, events: list[NewEvent], expected_seq: int | None
    ) -> list[StoredEvent]:
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    raise DatabaseLocked(self.path, self.busy_timeout_s) from exc
                raise
            try:
                stored = await self._insert(stream, events, expected_seq)
                await self._conn.execute("COMMIT")
                self._check_wal()
            except BaseException as exc:
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                if _is_locked(exc):
                    raise DatabaseLocked(self.path, self.busy_timeout_s) from exc
                raise
        return stored

    async def _insert(
        self, stream: str, events: list[NewEvent], expected_seq: int | None
    ) -> list[StoredEvent]:
        last = await self._scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM events WHERE stream = ?", (stream,)
        )
        if expected_seq is not None and last != expected_seq:
            raise StreamConflict(stream, expected_seq, last)
        ts = time.time()
        payloads: list[str] = []

        def rows() -> Iterator[tuple[Any, ...]]:
            # Encoded lazily: a bad payload fails mid-batch, inside the transaction.
            for seq, event in enumerate(events, start=last + 1):
                payloads.append(_encode(event))
                when = ts if event.ts is None else event.ts
                yield (stream, seq, event.type, event.version, when, payloads[-1])

        await self._conn.executemany(_INSERT, rows())
        if self._writer_id is None:
            await self._register()
        await self._conn.execute(RECORD_WRITE, (self._writer_id, stream, last + len(events)))
        positions = await self._conn.execute_fetchall(
            "SELECT position FROM events WHERE stream = ? AND seq > ? ORDER BY seq",
            (stream, last),
        )
        return [
            StoredEvent(
                pos,
                stream,
                seq,
                ev.type,
                ev.version,
                ts if ev.ts is None else ev.ts,
                json.loads(text),
            )
            for (pos,), seq, ev, text in zip(
                positions, range(last + 1, last + 1 + len(events)), events, payloads, strict=True
            )
        ]

    async def _register(self) -> None:
        """Record who writes, inside the first append's transaction (see store.writers)."""
        for statement in WRITER_TABLES:
            await self._conn.execute(statement)
        host, pid, started = current_identity()
        self._wal = wal_identity(self.path)
        rows = await self._conn.execute_fetchall(
            REGISTER, (host, pid, started, self._wal, time.time())
        )
        self._writer_id = int(next(iter(rows))[0])

    def _check_wal(self) -> None:
        """A -wal removed under an open connection takes every later commit with it."""
        if self._wal is not None and wal_identity(self.path) != self._wal:
            raise WalReplaced(self.path)

    async def read_stream(
        self, stream: str, from_seq: int = 1, to_seq: int | None = None
    ) -> list[StoredEvent]:
        """Events of one stream with from_seq <= seq <= to_seq, in seq order."""
        sql = f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND seq >= ?"
        params: tuple[Any, ...] = (stream, from_seq)
        if to_seq is not None:
            sql += " AND seq <= ?"
            params += (to_seq,)
        return [_decode(row) for row in await self._query(sql + " ORDER BY seq", params)]

    async def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of every stream with position > after_position, in position order."""
        rows = await self._query(
            f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (after_position, -1 if limit is None else limit),
        )
        return [_decode(row) for row in rows]

    async def read_types(
        self, types: Sequence[str], before_position: int | None = None
    ) -> list[StoredEvent]:
        """Events of the given types in every stream, below `before_position`, in order."""
        marks = ", ".join("?" for _ in types)
        sql = f"SELECT {_COLUMNS} FROM events WHERE type IN ({marks})"
        params: tuple[Any, ...] = tuple(types)
        if before_position is not None:
            sql += " AND position < ?"
            params += (before_position,)
        return [_decode(row) for row in await self._query(sql + " ORDER BY position", params)]

    async def tail(
        self, after_position: int = 0, poll_s: float = 0.2
    ) -> AsyncIterator[StoredEvent]:
        """Every event after `after_position`, in position order, then new ones as they land.

        Never ends. Positions commit in order (one writer at a time holds the write lock),
        so polling past the last seen position misses nothing.
        """
        position = after_position
        while True:
            batch = await self.read_all(after_position=position, limit=_TAIL_BATCH)
            for event in batch:
                position = event.position
                yield event
            if len(batch) < _TAIL_BATCH:
                await asyncio.sleep(poll_s)

    async def streams(self) -> list[StreamInfo]:
        """One summary per stream, in order of each stream's first event."""
        rows = await self._query(
            "SELECT stream, MAX(seq), COUNT(*), MIN(ts), MAX(ts) FROM events"
            " GROUP BY stream ORDER BY MIN(position)",
            (),
        )
        return [StreamInfo(*row) for row in rows]

    async def last_seq(self, stream: str) -> int:
        """The stream's last seq; 0 for a stream with no events."""
        async with self._lock:
            return await self._scalar(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE stream = ?", (stream,)
            )

    async def last_position(self) -> int:
        """The global position of the newest event; 0 for an empty store."""
        async with self._lock:
            return await self._scalar("SELECT COALESCE(MAX(position), 0) FROM events", ())

    async def _query(self, sql: str, params: tuple[Any, ...]) -> Iterable[Sequence[Any]]:
        async with self._lock:
            try:
                return await self._conn.execute_fetchall(sql, params)
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    raise DatabaseLocked(self.path, self.busy_timeout_s) from exc
                raise

    async def _scalar(self, sql: str, params: tuple[Any, ...]) -> int:
        rows = list(await self._conn.execute_fetchall(sql, params))
        return int(rows[0][0])
