"""`aikg db check|export|import`: the event log's integrity and portability."""

from __future__ import annotations

import argparse
import json
import shlex
import sqlite3
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aikg.commands import EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.reading import db_path, open_existing_store
from machine import events as ev
from store import EventStore, NewEvent
from store.schema import check_header
from store.writers import Writer, read_writers, wal_identity

Rows = list[tuple[str, int, str, int, str]]
ENDS = (ev.TaskFinished.TYPE, ev.TaskInterrupted.TYPE)  # a stream ending so is complete


def check_events(rows: Rows) -> list[str]:
    """Problems in raw `(stream, seq, type, version, payload_text)` rows, in stream order."""
    problems: list[str] = []
    expected: dict[str, int] = defaultdict(lambda: 1)
    for stream, seq, type_, version, text in rows:
        if seq != expected[stream]:
            problems.append(f"{stream}: seq {seq} follows {expected[stream] - 1} (a gap)")
        expected[stream] = seq + 1
        try:
            payload = json.loads(text)
        except ValueError:
            problems.append(f"{stream} seq {seq}: payload is not valid JSON")
            continue
        try:
            ev.decode(type_, version, payload)
        except ev.UnknownEventType:
            problems.append(f"{stream} seq {seq}: unknown event type {type_!r}")
        except (ev.EventDecodeError, TypeError, KeyError) as exc:
            problems.append(f"{stream} seq {seq}: {type_} does not decode: {exc}")
        if seq == 1 and stream != ev.DEVICES_STREAM and type_ != ev.TaskCreated.TYPE:
            problems.append(f"{stream}: starts with {type_}, not task.created")
    return problems


@dataclass
class Findings:
    """What `aikg db check` found: problems (exit 1) and notes (informative only)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_log(path: Path) -> tuple[str, Rows, dict[int, Writer], dict[str, int], str | None]:
    """SQLite's integrity verdict, every event row (undecoded), the writer records and the
    -wal's identity, all read through one read-only connection (it keeps the -wal alive)."""
    # A -shm without its -wal (removed under a connection) fails a normal read-only open:
    # then read the main file alone, without locks.
    immutable = "&immutable=1" if orphaned_shm(path) else ""
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro{immutable}", uri=True)
    try:
        verdict = "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
        rows = conn.execute(
            "SELECT stream, seq, type, version, payload FROM events ORDER BY stream, seq"
        ).fetchall()
        writers, last_writer = read_writers(conn)
        wal = wal_identity(path)
    finally:
        conn.close()
    return verdict, rows, writers, last_writer, wal


def orphaned_shm(path: Path) -> bool:
    return Path(f"{path}-shm").exists() and not Path(f"{path}-wal").exists()


def check_unfinished(
    rows: Rows, writers: dict[int, Writer], last_writer: dict[str, int], path: Path
) -> Findings:
    """Streams without task.finished/task.interrupted: lost when their writer died, a note
    when it is still running, closed the log on purpose, or cannot be told."""
    found = Findings()
    ends = {stream: (seq, type_) for stream, seq, type_, _, _ in rows}  # rows are in seq order
    for stream, (seq, type_) in ends.items():
        if stream == ev.DEVICES_STREAM or type_ in ENDS:
            continue
        where = f"{stream}: stopped at seq {seq} ({type_}) without task.finished"
        resume = f"resume it: `aikg resume {shlex.quote(stream)} --db {shlex.quote(str(path))}`"
        writer = writers.get(last_writer.get(stream, -1))
        if writer is None:
            found.notes.append(
                f"{where}; no writer recorded (an older aikg); if none runs it, {resume}"
            )
            continue
        liveness = writer.liveness()
        if liveness == "running":
            found.notes.append(f"{stream}: still being written by {writer.describe()}")
        elif liveness == "unknown":
            found.notes.append(f"{where}; written from {writer.host}; if that is over, {resume}")
        elif writer.closed_at is not None:  # it stopped on purpose: nothing was lost
            found.notes.append(
                f"{where}: its writer ({writer.describe()}) closed the log; {resume}"
            )
        else:
            found.problems.append(f"{where}: its writer ({writer.describe()}) died; {resume}")
    return found


def check_wal(writers: dict[int, Writer], wal: str | None, path: Path) -> list[str]:
    """A running writer whose -wal is no longer the file on disk is losing its appends."""
    return [
        f"{path}-wal was removed while {w.describe()} had it open: its appends since are "
        "lost; stop that process, then resume its task"
        for w in writers.values()
        if w.wal is not None and w.wal != wal and w.liveness() == "running"
    ]


@dataclass(frozen=True)
class LogHealth:
    """What `aikg db check` found in one log (also `aikg doctor`'s event log line)."""

    path: Path
    events: int
    streams: int
    problems: list[str]
    notes: list[str]

    def summary(self) -> str:
        status = "ok" if not self.problems else f"{len(self.problems)} problem(s)"
        return f"{self.path}: {self.events} events in {self.streams} streams: {status}"


async def check_log(path: Path) -> LogHealth:
    """Integrity, event decoding, gaps, lost -wal and dead writers of the log at `path`.
    Raises (StoreError) for a file that is not an aikg store."""
    problems = []
    if orphaned_shm(path):
        await check_header(path, wait_s=0)  # refuses files that are not aikg stores
        problems.append(
            f"{path}-wal is missing beside its -shm: it was removed while a connection had it "
            "open, so the commits it held are lost"
        )
    else:
        await (await EventStore.open(path, readonly=True)).close()  # refuses other files
    verdict, rows, writers, last_writer, wal = read_log(path)
    found = check_unfinished(rows, writers, last_writer, path)
    problems += [] if verdict == "ok" else [f"SQLite integrity check: {verdict}"]
    problems += check_events(rows) + check_wal(writers, wal, path) + found.problems
    return LogHealth(path, len(rows), len({r[0] for r in rows}), problems, found.notes)


async def cmd_db_check(args: argparse.Namespace) -> int:
    path = db_path(args)
    if not orphaned_shm(path):
        await (await open_existing_store(args)).close()  # a missing log is a usage error
    health = await check_log(path)
    if getattr(args, "json", False):
        report = {"path": str(path), "events": health.events, "streams": health.streams}
        print(json.dumps({**report, "problems": health.problems, "notes": health.notes}, indent=2))
    else:
        for line in health.problems + [f"note: {note}" for note in health.notes]:
            print(line)
        print(health.summary())
    return EXIT_OK if not health.problems else EXIT_FAILED


async def cmd_db_export(args: argparse.Namespace) -> int:
    store = await open_existing_store(args)
    try:
        streams = args.task_ids or [info.stream for info in await store.streams()]
        out = sys.stdout
        for stream in streams:
            stored = await store.read_stream(stream)
            if not stored:
                raise UsageError(f"no task {stream!r} in the event log: see `aikg ls`")
            for e in stored:
                record = {
                    "stream": e.stream,
                    "seq": e.seq,
                    "type": e.type,
                    "version": e.version,
                    "ts": e.ts,
                    "payload": e.payload,
                }
                out.write(json.dumps(record, sort_keys=True) + "\n")
    finally:
        await store.close()
    return EXIT_OK


def read_jsonl(path: str) -> dict[str, list[dict[str, Any]]]:
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    streams: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            stream, seq = str(record["stream"]), int(record["seq"])
            ev.decode(record["type"], int(record["version"]), record["payload"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{path} line {number}: not an aikg event ({exc})") from None
        if seq != len(streams[stream]) + 1:
            raise UsageError(f"{path} line {number}: {stream} seq {seq} out of order or missing")
        streams[stream].append(record)
    return streams


async def cmd_db_import(args: argparse.Namespace) -> int:
    streams = read_jsonl(args.file)
    async with await EventStore.open(db_path(args)) as store:
        clashes = [s for s in streams if await store.last_seq(s)]
        if clashes:
            raise UsageError(f"already in the log: {', '.join(clashes)}; import into another --db")
        for stream, records in streams.items():
            batch = [NewEvent(r["type"], r["payload"], r["version"], r.get("ts")) for r in records]
            await store.append(stream, batch, expected_seq=0)
    total = sum(len(r) for r in streams.values())
    print(f"imported {total} events in {len(streams)} streams", file=sys.stderr)
    unfinished = [
        s for s, r in streams.items() if s != ev.DEVICES_STREAM and r[-1]["type"] not in ENDS
    ]
    if unfinished:  # importing runs nothing; resuming runs the task file stored in the log
        print(
            f"aikg: note: unfinished imported tasks: {', '.join(unfinished)}; resuming one runs "
            f"the code stored in {args.file} (and `aikg resume --all` resumes them all): "
            "do so only if you trust that file",
            file=sys.stderr,
        )
    return EXIT_OK
