"""A store that another process is creating is waited for, not refused as foreign.

While SQLite writes a new database's pages its rollback journal lies beside it and the
file may read as zeros; opening it then must wait for the creation, and only a file that
still is no database once its journal is gone (or after the busy timeout) is refused.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from store import EventStore, NewEvent, NotAnAikgDatabase


async def aikg_store_bytes(path: Path) -> bytes:
    async with await EventStore.open(path) as store:
        await store.append("a", [NewEvent("x", {"i": 0})])
    return path.read_bytes()  # closed: no connection of this process is open on it


def mid_creation(path: Path) -> None:
    path.write_bytes(bytes(8192))  # the size is set, the pages not yet written
    Path(f"{path}-journal").write_bytes(b"")


@pytest.mark.parametrize("readonly", [False, True], ids=["writer", "reader"])
async def test_a_file_being_created_is_waited_for(tmp_path: Path, readonly: bool) -> None:
    finished = await aikg_store_bytes(tmp_path / "made.db")
    db = tmp_path / "events.db"
    mid_creation(db)

    async def finish_creation() -> None:
        await asyncio.sleep(0.3)
        db.write_bytes(finished)
        Path(f"{db}-journal").unlink()

    finishing = asyncio.ensure_future(finish_creation())
    async with await EventStore.open(db, readonly=readonly, busy_timeout_s=10) as store:
        assert [e.payload for e in await store.read_stream("a")] == [{"i": 0}]
    await finishing


async def test_a_file_that_stays_no_database_is_refused_after_the_timeout(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    mid_creation(db)
    with pytest.raises(NotAnAikgDatabase, match="not an SQLite database"):
        await EventStore.open(db, busy_timeout_s=0.2)
    assert db.read_bytes() == bytes(8192)
