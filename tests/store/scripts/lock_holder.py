"""Holds `BEGIN EXCLUSIVE` on a SQLite file until stdin closes, for the store's lock tests."""

from __future__ import annotations

import sqlite3
import sys


def main() -> None:
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.read()
    conn.execute("ROLLBACK")
    conn.close()


if __name__ == "__main__":
    main()
