"""Who writes the log: one row per writer connection, so a later check can tell a stream
whose writer is gone from one still being written, and see a -wal removed under a writer.

A writer connection registers in the transaction of its first append: host, pid, the
process's start time (so a reused pid is not taken for the writer), and the identity
(device, inode) of the -wal file it writes. Every append records the stream's last seq
under that writer; closing the connection records `closed_at`. The tables are created on
first use, so a store written by an older aikg gains them without a schema change.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

WRITER_TABLES = (
    """CREATE TABLE IF NOT EXISTS aikg_writers (
        id INTEGER PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        process_start TEXT,
        wal TEXT,
        opened_at REAL NOT NULL,
        closed_at REAL
    )""",
    """CREATE TABLE IF NOT EXISTS aikg_writes (
        writer INTEGER NOT NULL,
        stream TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (writer, stream)
    )""",
)
REGISTER = (
    "INSERT INTO aikg_writers (host, pid, process_start, wal, opened_at) VALUES (?, ?, ?, ?, ?) "
    "RETURNING id"
)
RECORD_WRITE = (
    "INSERT INTO aikg_writes (writer, stream, last_seq) VALUES (?, ?, ?) "
    "ON CONFLICT (writer, stream) DO UPDATE SET last_seq = excluded.last_seq"
)
RECORD_CLOSE = "UPDATE aikg_writers SET closed_at = ? WHERE id = ?"

Liveness = Literal["running", "gone", "unknown"]


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def wal_identity(db_path: Path) -> str | None:
    """`device:inode` of the store's -wal file (a stat, never an open), None when missing."""
    try:
        info = os.stat(f"{db_path}-wal")
    except FileNotFoundError:
        return None
    return f"{info.st_dev}:{info.st_ino}"


@dataclass(frozen=True)
class Writer:
    """A registered writer connection, as `aikg db check` reads it."""

    id: int
    host: str
    pid: int
    process_start: str | None
    wal: str | None
    opened_at: float
    closed_at: float | None

    def liveness(self) -> Liveness:
        """running: this process still has the connection open; gone: it closed or died;
        unknown: it ran on another host."""
        if self.closed_at is not None:
            return "gone"
        if self.host != socket.gethostname():
            return "unknown"
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return "gone"
        except PermissionError:
            pass  # alive, another user's
        started = process_start(self.pid)
        if self.process_start is not None and started is not None:
            return "running" if started == self.process_start else "gone"
        return "running"

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def current_identity() -> tuple[str, int, str | None]:
    pid = os.getpid()
    return socket.gethostname(), pid, process_start(pid)


def read_writers(conn: sqlite3.Connection) -> tuple[dict[int, Writer], dict[str, int]]:
    """Registered writers by id, and the id of each stream's last writer.

    Both are empty for a log that no aikg with writer records has appended to.
    """
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if not {"aikg_writers", "aikg_writes"} <= tables:
        return {}, {}
    writers = {
        row[0]: Writer(*row)
        for row in conn.execute(
            "SELECT id, host, pid, process_start, wal, opened_at, closed_at FROM aikg_writers"
        )
    }
    query = "SELECT stream, writer FROM aikg_writes ORDER BY last_seq, writer"
    last_writer = dict(conn.execute(query).fetchall())  # the highest seq's writer wins
    return writers, last_writer
