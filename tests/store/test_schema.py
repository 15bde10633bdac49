"""The SQLite file itself: layout, marks, WAL, append-only triggers, uniqueness, indexes.

These tests look inside the file with the stdlib sqlite3 module, so they are specific to
the SQLite store.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from store import EventStore, NewEvent
from store.schema import APPLICATION_ID, SCHEMA_VERSION


@pytest.fixture
async def filled_db(store: EventStore, db_path: Path) -> Path:
    await store.append("a", [NewEvent("x", {"b": 2.5, "a": [1]}), NewEvent("y", {})])
    return db_path


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_file_is_marked_as_aikg_and_in_wal_mode(filled_db: Path) -> None:
    conn = connect(filled_db)
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    meta = conn.execute("SELECT value FROM aikg_meta WHERE key = 'schema_version'").fetchone()
    assert meta == (str(SCHEMA_VERSION),)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    assert columns == ["position", "stream", "seq", "type", "version", "ts", "payload"]


def test_payload_is_stored_as_canonical_json(filled_db: Path) -> None:
    rows = connect(filled_db).execute("SELECT payload FROM events ORDER BY position").fetchall()
    assert [r[0] for r in rows] == ['{"a":[1],"b":2.5}', "{}"]
    assert json.loads(rows[0][0]) == {"a": [1], "b": 2.5}


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET payload = '{}' WHERE seq = 1", "DELETE FROM events WHERE seq = 1"],
)
def test_update_and_delete_are_rejected(filled_db: Path, statement: str) -> None:
    conn = connect(filled_db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    assert conn.execute("SELECT count(*) FROM events").fetchone() == (2,)


def test_stream_and_seq_are_unique(filled_db: Path) -> None:
    conn = connect(filled_db)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(
            "INSERT INTO events (stream, seq, type, version, ts, payload)"
            " VALUES ('a', 2, 'fork', 1, 0.0, '{}')"
        )


def test_reads_use_indexes(filled_db: Path) -> None:
    conn = connect(filled_db)

    def plan(sql: str) -> str:
        return " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))

    summary = plan(
        "SELECT stream, MAX(seq), COUNT(*), MIN(ts), MAX(ts) FROM events"
        " GROUP BY stream ORDER BY MIN(position)"
    )
    assert "COVERING INDEX events_stream_summary" in summary
    assert "USING INDEX" in plan("SELECT * FROM events WHERE stream = 'a' AND seq >= 1")
