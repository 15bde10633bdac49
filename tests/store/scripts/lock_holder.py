"""Holds a write lock on a SQLite file until stdin closes, for the store's lock tests.

`lock_holder.py DB` takes `BEGIN EXCLUSIVE` at once. `lock_holder.py DB STREAM N` waits
until STREAM has at least N events, then takes `BEGIN IMMEDIATE` (another writer's lock,
readers go on). Either way it prints `locked` and holds the lock until stdin closes.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path


def has_events(db: str, stream: str, count: int) -> bool:
    """One short-lived connection: a long one would stop aikg switching a new log to WAL."""
    if not Path(db).exists():  # never create it: aikg does
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        query = "SELECT count(*) FROM events WHERE stream = ?"
        return conn.execute(query, (stream,)).fetchone()[0] >= count
    except sqlite3.OperationalError:  # not created yet, or being switched to WAL
        return False
    finally:
        conn.close()


def main() -> None:
    db = sys.argv[1]
    if len(sys.argv) > 2:
        while not has_events(db, sys.argv[2], int(sys.argv[3])):
            time.sleep(0.05)
    conn = sqlite3.connect(db, isolation_level=None, timeout=60)
    conn.execute("BEGIN IMMEDIATE" if len(sys.argv) > 2 else "BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.read()
    conn.execute("ROLLBACK")
    conn.close()


if __name__ == "__main__":
    main()
