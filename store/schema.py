"""The on-disk layout of an aikg store and how a file is recognised before anything is written.

A file is recognised in two steps. First its header is read through an immutable
read-only SQLite connection, so a file that is not SQLite, or is SQLite of another
application, is refused untouched (no lock, no -wal/-shm files, no journal-mode switch).
Then, for a file carrying the aikg `application_id`, SQL reads the store schema version
from `aikg_meta`. The file is never opened with plain file I/O (see `check_header`).

A new store is created in rollback-journal mode and switched to WAL only after its first
commit, so the aikg mark is always in the main file's header and never only in a WAL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from store.errors import NewerSchema, NotAnAikgDatabase

SCHEMA_VERSION = 1
APPLICATION_ID = 0x61696B67  # "aikg" in ASCII

CREATE_STATEMENTS = (
    "CREATE TABLE aikg_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 1),
        type TEXT NOT NULL,
        version INTEGER NOT NULL,
        ts REAL NOT NULL,
        payload TEXT NOT NULL,
        UNIQUE (stream, seq)
    )""",
    # Covers streams(): one GROUP BY over this index, never touching the table rows.
    "CREATE INDEX events_stream_summary ON events (stream, seq, ts)",
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'aikg events are append-only: UPDATE is rejected'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'aikg events are append-only: DELETE is rejected'); END""",
    f"INSERT INTO aikg_meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')",
    f"PRAGMA application_id = {APPLICATION_ID}",
)


def _application_id(path: Path) -> int | None:
    """The header's application_id, read through SQLite with `immutable=1` (no lock, no
    -wal/-shm, no write); None when SQLite finds no database there.

    Never with plain file I/O: closing any descriptor of the file would drop every POSIX
    lock this process holds on it, so another process would take itself for the last
    connection and delete the -wal under this process's live writers. SQLite keeps such a
    descriptor open until the process's last lock on the file is released.
    """
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True)
        try:
            return int(conn.execute("PRAGMA application_id").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


async def check_header(path: Path, wait_s: float) -> bool:
    """True for an aikg file, False for an empty (0-byte) one; raise for anything else.

    A store another process is creating has its rollback journal beside it while its pages
    are written (the file may be all zeros until then): that is waited for, up to `wait_s`.
    """
    deadline = time.monotonic() + wait_s
    while True:
        if path.stat().st_size == 0:
            return False
        being_created = Path(f"{path}-journal").exists()  # looked at before the read
        app_id = _application_id(path)
        if app_id is not None or not being_created or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    if app_id is None:
        raise NotAnAikgDatabase(path, "not an SQLite database")
    if app_id != APPLICATION_ID:
        raise NotAnAikgDatabase(path, f"an SQLite database with application_id {app_id}")
    return True


async def check_schema(conn: aiosqlite.Connection, path: Path) -> None:
    """Raise unless the connected database is an aikg store of a schema this code reads."""
    async with conn.execute("PRAGMA application_id") as cur:
        row = await cur.fetchone()
    if row is None or row[0] != APPLICATION_ID:
        raise NotAnAikgDatabase(path, "no aikg application_id")
    try:
        async with conn.execute("SELECT value FROM aikg_meta WHERE key = 'schema_version'") as cur:
            row = await cur.fetchone()
    except sqlite3.OperationalError as exc:
        raise NotAnAikgDatabase(path, f"marked aikg but unreadable: {exc}") from exc
    if row is None or not str(row[0]).isdigit():
        raise NotAnAikgDatabase(path, "marked aikg but has no schema version")
    found = int(row[0])
    if found > SCHEMA_VERSION:
        raise NewerSchema(path, found, SCHEMA_VERSION)


async def initialise(conn: aiosqlite.Connection, path: Path) -> None:
    """Create the schema in an empty database, inside the caller's write transaction.

    Another process may have initialised the file since it was seen empty: then the
    schema is only checked.
    """
    async with conn.execute("PRAGMA application_id") as cur:
        row = await cur.fetchone()
    async with conn.execute("SELECT count(*) FROM sqlite_master") as cur:
        n_objects = await cur.fetchone()
    if row is not None and row[0] == APPLICATION_ID:
        await check_schema(conn, path)
        return
    if row is None or row[0] != 0 or n_objects is None or n_objects[0] != 0:
        raise NotAnAikgDatabase(path, "another program wrote to it while aikg was creating it")
    for statement in CREATE_STATEMENTS:
        await conn.execute(statement)
