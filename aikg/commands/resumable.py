"""`aikg bench` and `aikg batch` run again: what the log already holds of the same run.

A task of the run matches a stream already in the log when everything that decides its
result is the same: its op name (the file's stem), the task file's text (its SHA-256),
backend, arch, impl_type, framework, task type, steps, and the whole config (its digest
covers shapes, LLM, the verifier's settings, the log itself). Each task takes the newest
matching stream not taken by another: a finished one is kept as it is, an unfinished one
(interrupted, or stopped by SIGKILL) is resumed as `aikg resume` would, nothing completed
redone; a task without a match starts. `--fresh` ignores the log and starts every task
anew.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from aikg.commands import UsageError
from machine import events as ev
from machine.recorder import decode_stored
from machine.state import TaskState, fold
from machine.task import Task
from store import EventStore
from store.writers import read_writers

Settings = tuple[str | int, ...]


def settings_of(
    op_name: str,
    task_desc: str,
    backend: str,
    arch: str,
    impl_type: str,
    framework: str,
    task_type: str,
    limit_steps: int,
    config_digest: str,
) -> Settings:
    """What must be equal for a recorded task to stand for one of this run."""
    digest = hashlib.sha256(task_desc.encode()).hexdigest()
    settings = (backend, arch, impl_type, framework, task_type, limit_steps, config_digest)
    return (op_name, digest, *settings)


def task_settings(task: Task) -> Settings:
    return settings_of(
        task.op_name,
        task.task_desc,
        task.backend,
        task.arch,
        task.impl_type,
        task.framework,
        task.task_type,
        task.limit_steps,
        task.config.digest(),
    )


def created_settings(created: ev.TaskCreated) -> Settings:
    return settings_of(
        created.op_name,
        created.task_desc,
        created.backend,
        created.arch,
        created.impl_type,
        created.framework,
        created.task_type,
        created.limit_steps,
        created.config_digest,
    )


@dataclass(frozen=True)
class Recorded:
    """A stream of the log that one task of this run takes over."""

    task_id: str
    state: TaskState
    wall_s: float  # from its first event to its last, over every run so far


@dataclass
class Resumption:
    """Per task index of the run: the finished streams kept and the unfinished resumed."""

    total: int
    kept: dict[int, Recorded] = field(default_factory=dict)
    resumed: dict[int, Recorded] = field(default_factory=dict)

    def line(self, command: str) -> str | None:
        """The first thing the command says, when the log held part of this run."""
        if not self.kept and not self.resumed:
            return None
        rest = self.total - len(self.kept) - len(self.resumed)
        started = f", {rest} to start" if rest else ""
        return (
            f"aikg {command}: {len(self.kept)} of {self.total} already finished, "
            f"{len(self.resumed)} interrupted{started}, resuming (--fresh starts over)"
        )


async def take_over(db: Path, tasks: Sequence[Task], fresh: bool) -> Resumption:
    """Match `tasks` to the log's streams and give each matched task its stream's id."""
    found = Resumption(len(tasks))
    if fresh or not db.exists():
        return found
    by_settings = await _streams_by_settings(db, {task_settings(t) for t in tasks})
    running = _streams_being_written(db)
    for index, task in enumerate(tasks):
        candidates = by_settings.get(task_settings(task))
        if not candidates:
            continue
        recorded = candidates.pop()  # the newest
        if recorded.state.finished is None and recorded.task_id in running:
            raise UsageError(
                f"task {recorded.task_id} of this run is still being run by "
                f"{running[recorded.task_id]}: wait for it to end, or pass --fresh"
            )
        task.task_id = recorded.task_id
        chosen = found.kept if recorded.state.finished is not None else found.resumed
        chosen[index] = recorded
    return found


async def _streams_by_settings(db: Path, wanted: set[Settings]) -> dict[Settings, list[Recorded]]:
    """The log's task streams whose settings are `wanted`, oldest first per settings."""
    matches: dict[Settings, list[Recorded]] = {}
    async with await EventStore.open(db, readonly=True) as store:
        for info in await store.streams():
            first = await store.read_stream(info.stream, to_seq=1)
            if not first or first[0].type != ev.TaskCreated.TYPE:
                continue
            created = decode_stored(first[0])
            assert isinstance(created, ev.TaskCreated)
            settings = created_settings(created)
            if settings not in wanted:
                continue
            stored = await store.read_stream(info.stream)
            state = fold((s.seq, decode_stored(s)) for s in stored)
            wall_s = info.last_ts - info.first_ts
            matches.setdefault(settings, []).append(Recorded(info.stream, state, wall_s))
    return matches


def _streams_being_written(db: Path) -> dict[str, str]:
    """Streams whose last writer still has the log open here: stream -> that writer."""
    conn = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True)
    try:
        writers, last_writer = read_writers(conn)
    finally:
        conn.close()
    return {
        stream: writers[writer].describe()
        for stream, writer in last_writer.items()
        if writer in writers and writers[writer].liveness() == "running"
    }
