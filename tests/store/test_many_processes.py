"""Many processes on one log, each holding two writer connections as `aikg run` does.

Round after round, four writer processes write task streams into a fresh file at once
while a reader tails it and lists its streams; every stream must come out complete and
gap-free and SQLite's integrity check must pass. This is the scenario in which a stray
close of the database file released a process's locks, so that another process deleted
the -wal under a live writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

ROUNDS = 20
WRITERS = 4


def steps_of(writer: int) -> int:
    return 15 + 10 * writer  # different lengths: writers close while others still write


def read_streams(db: Path) -> tuple[str, dict[str, list[tuple[int, str]]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        verdict = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        streams: dict[str, list[tuple[int, str]]] = {}
        for stream, seq, type_ in conn.execute(
            "SELECT stream, seq, type FROM events ORDER BY position"
        ):
            streams.setdefault(stream, []).append((seq, type_))
    finally:
        conn.close()
    return verdict, streams


def problems_in_round(db: Path, round_no: int) -> list[str]:
    verdict, streams = read_streams(db)
    problems = [] if verdict == "ok" else [f"integrity_check: {verdict}"]
    for writer in range(WRITERS):
        name, steps = f"t{round_no}-{writer}", steps_of(writer)
        expected = [(1, "task.created")]
        expected += [(seq, "step.started") for seq in range(2, steps + 2)]
        expected += [(steps + 2, "task.finished")]
        got = streams.get(name, [])
        if got != expected:
            problems.append(f"{name}: {len(got)} of {len(expected)} events, last {got[-1:]}")
    devices = [seq for seq, _ in streams.get("devices", [])]
    n_devices = sum(steps_of(w) // 7 for w in range(WRITERS))
    if devices != list(range(1, n_devices + 1)):
        problems.append(f"devices: {len(devices)} of {n_devices} events")
    return problems


async def test_four_writers_and_a_reader_lose_nothing(tmp_path: Path, spawn) -> None:
    writers = [await spawn("task_writer") for _ in range(WRITERS)]
    reader = await spawn("log_reader")
    problems: list[str] = []
    reader.send_line(str(tmp_path / "round0.db"))
    for round_no in range(ROUNDS):
        db = tmp_path / f"round{round_no}.db"
        for writer_no, writer in enumerate(writers):
            writer.send_line(f"{db} t{round_no}-{writer_no} {steps_of(writer_no)}")
        done = await asyncio.gather(*(w.read_line(timeout_s=60.0) for w in writers))
        assert done == [f"done t{round_no}-{n}" for n in range(WRITERS)]
        if round_no + 1 < ROUNDS:
            reader.send_line(str(tmp_path / f"round{round_no + 1}.db"))
            problems += [f"round {round_no} reader: {await reader.read_line()}"]
        problems += [f"round {round_no}: {p}" for p in problems_in_round(db, round_no)]
    await asyncio.gather(*(w.finish() for w in writers))
    problems += [f"last round reader: {await reader.finish()}"]
    assert [p for p in problems if "reader: read" not in p] == []
