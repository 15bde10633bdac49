"""Files that are not a usable aikg store are refused with the right error and left untouched."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from store import (
    DatabaseLocked,
    EventStore,
    NewerSchema,
    NewEvent,
    NotAnAikgDatabase,
    StoreError,
)
from store.schema import APPLICATION_ID


def write_random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(8192))


def write_text(path: Path) -> None:
    path.write_text("id,name\n1,not a database\n")


def write_foreign_sqlite(path: Path, journal_mode: str = "delete", app_id: int = 0) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    conn.execute(f"PRAGMA application_id = {app_id}")
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('ada')")
    conn.commit()
    conn.close()


async def write_newer_schema(path: Path) -> None:
    async with await EventStore.open(path) as store:
        await store.append("a", [NewEvent("x", {})])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE aikg_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


FOREIGN_FILES: dict[str, Callable[[Path], None]] = {
    "random_bytes": write_random_bytes,
    "text": write_text,
    "foreign_sqlite": write_foreign_sqlite,
    "foreign_sqlite_wal": lambda p: write_foreign_sqlite(p, journal_mode="wal"),
    "other_application": lambda p: write_foreign_sqlite(p, app_id=0x12345678),
    "forged_aikg_mark": lambda p: write_foreign_sqlite(p, app_id=APPLICATION_ID),
}


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def assert_one_line(error: StoreError) -> None:
    message = str(error)
    assert message and "\n" not in message


@pytest.mark.parametrize("readonly", [False, True], ids=["writer", "reader"])
@pytest.mark.parametrize("kind", list(FOREIGN_FILES))
async def test_foreign_file_is_refused_untouched(
    store_factory, db_path: Path, kind: str, readonly: bool
) -> None:
    FOREIGN_FILES[kind](db_path)
    before = snapshot(db_path.parent)
    with pytest.raises(NotAnAikgDatabase) as refused:
        await store_factory(readonly=readonly)
    assert_one_line(refused.value)
    assert snapshot(db_path.parent) == before


@pytest.mark.parametrize("readonly", [False, True], ids=["writer", "reader"])
async def test_newer_schema_is_refused_untouched(
    store_factory, db_path: Path, readonly: bool
) -> None:
    await write_newer_schema(db_path)
    before = db_path.read_bytes()
    with pytest.raises(NewerSchema, match="v99") as refused:
        await store_factory(readonly=readonly)
    assert_one_line(refused.value)
    assert db_path.read_bytes() == before


async def test_directory_is_refused(store_factory, tmp_path: Path) -> None:
    with pytest.raises(NotAnAikgDatabase):
        await store_factory(tmp_path)


async def test_empty_file_is_initialised(store_factory, db_path: Path) -> None:
    db_path.write_bytes(b"")
    store = await store_factory()
    (event,) = await store.append("a", [NewEvent("x", {})])
    assert event.seq == 1


async def test_store_locked_by_another_process(store_factory, db_path: Path, spawn) -> None:
    async with await EventStore.open(db_path) as setup:
        await setup.append("a", [NewEvent("x", {})])
    before = db_path.read_bytes()
    holder = await spawn("lock_holder", str(db_path))
    assert await holder.read_line() == "locked"

    writer = await store_factory(busy_timeout_s=0.3)
    start = time.perf_counter()
    with pytest.raises(DatabaseLocked, match="busy_timeout_s") as refused:
        await writer.append("a", [NewEvent("x", {})])
    assert 0.25 < time.perf_counter() - start < 10.0
    assert_one_line(refused.value)
    reader = await store_factory(readonly=True, busy_timeout_s=0.3)
    assert len(await reader.read_stream("a")) == 1
    assert db_path.read_bytes() == before

    await holder.finish()
    (appended,) = await writer.append("a", [NewEvent("x", {})])
    assert appended.seq == 2


async def test_empty_file_locked_by_another_process(store_factory, db_path: Path, spawn) -> None:
    db_path.write_bytes(b"")
    holder = await spawn("lock_holder", str(db_path))
    assert await holder.read_line() == "locked"
    with pytest.raises(DatabaseLocked):
        await store_factory(busy_timeout_s=0.3)
    assert db_path.read_bytes() == b""
    await holder.finish()
    assert await (await store_factory()).last_position() == 0
