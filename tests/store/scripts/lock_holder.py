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


def wait_for_events(conn: sqlite3.Connection, stream: str, count: int) -> None:
    query = "SELECT count(*) FROM events WHERE stream = ?"
    while True:
        try:
            if conn.execute(query, (stream,)).fetchone()[0] >= count:
                return
        except sqlite3.OperationalError:  # the writer has not created the table yet
            pass
        time.sleep(0.02)


def main() -> None:
    if len(sys.argv) > 2:
        while not Path(sys.argv[1]).exists():  # never create it: aikg does
            time.sleep(0.02)
    conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=rw", uri=True, isolation_level=None)
    if len(sys.argv) > 2:
        wait_for_events(conn, sys.argv[2], int(sys.argv[3]))
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.read()
    conn.execute("ROLLBACK")
    conn.close()


if __name__ == "__main__":
    main()
