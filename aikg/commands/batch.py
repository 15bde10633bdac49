"""`aikg batch`: run every task file found, each in its own stream, on one DevicePool.

At most `--concurrency` tasks run at once. Every task's `task.created` is recorded before
any starts, so an interrupted batch (all tasks record `task.interrupted`) resumes with
`aikg resume --all`. A live display on stderr shows each running task and an overall bar
(redrawn in place on a terminal, plain lines otherwise); a summary table ends it. The same
command again keeps the tasks it finished and resumes the rest (aikg.commands.resumable).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aikg.commands import EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.common import config_for, pool_for
from aikg.commands.resumable import take_over
from aikg.commands.sandbox_notice import say_sandbox
from aikg.config import Config
from aikg.interrupts import EXIT_FOR_SIGNAL, interruptible, resume_command
from aikg.reference_check import check_reference
from aikg.run_progress import RunProgress
from aikg.summary import summarize
from aikg.writable import check_event_log
from devicepool import DevicePool
from machine import events as ev
from machine.interrupted import Interrupted
from machine.llm_budget import share_batch_budget
from machine.occupancy import publishing_occupancy
from machine.ray_verification import verification_session
from machine.spec import TaskSpecError
from machine.state import TaskState
from machine.task import Task
from store import EventStore, NewEvent, resolve_db_path
from verifier.task_framework import detect_framework

MODEL_CLASS = re.compile(r"^class Model\b", re.MULTILINE)


def find_task_files(paths: list[str]) -> list[Path]:
    """Files given as-is; directories searched recursively for `class Model` modules."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(f for f in sorted(path.rglob("*.py")) if _defines_model(f))
        else:
            raise UsageError(f"{raw} not found: pass task files or directories holding them")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise UsageError(f"no task files (.py with `class Model`) under {' '.join(paths)}")
    return unique


def _defines_model(path: Path) -> bool:
    try:
        return bool(MODEL_CLASS.search(path.read_text()))
    except (OSError, UnicodeDecodeError):
        return False


def pool_for_batch(config: Config, backend: str) -> DevicePool:
    pool = pool_for(config, backend)
    if pool is None:
        raise UsageError(f"no {backend} device found: pass --devices, e.g. --devices cpu")
    return pool


@dataclass
class Entry:
    """One task file of the batch and how it went."""

    path: Path
    task: Task | None = None
    state: TaskState = field(default_factory=TaskState)  # kept current while it runs
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    in_log: bool = False  # its stream is already in the log (an earlier run of this batch)

    @property
    def name(self) -> str:
        return self.task.task_id if self.task else self.path.stem


class BatchDisplay:
    """The batch's tasks fed to a `RunProgress`: a permanent line per finished task."""

    def __init__(self, entries: list[Entry], progress: RunProgress) -> None:
        self.entries = entries
        self.progress = progress

    def observe(self, entry: Entry) -> Any:
        def on_event(event: ev.Event, state: TaskState) -> None:
            entry.state = state
            self.progress.task_stepped(entry.name, state)

        return on_event

    def task_kept(self, entry: Entry) -> None:
        self.progress.kept(entry.state)

    def task_started(self, entry: Entry) -> None:
        self.progress.task_started(entry.name, entry.state)

    def task_ended(self, entry: Entry) -> None:
        where = f"[{self.progress.done + 1}/{len(self.entries)}] "
        line = f"{where}{outcome(entry):<11} {entry.name}  {detail(entry)}"
        self.progress.task_ended(entry.name, entry.state, line)


def outcome(entry: Entry) -> str:
    if entry.error is not None:
        return "error"
    state = entry.state
    if state.finished is not None:
        return "verified" if state.finished.success else "failed"
    if state.interrupted or (entry.task and entry.task.interrupted_by):
        return "interrupted"
    return "pending"


def detail(entry: Entry) -> str:
    if entry.error is not None:
        return entry.error
    state = entry.state
    took = f", {entry.ended - entry.started:.1f}s" if entry.started and entry.ended else ""
    if state.finished is not None:
        reason, message = state.finished.reason, state.finished.message
        text = message if message.startswith(reason) else f"{reason}: {message}"
        return f"{text} ({state.step} steps{took})"
    return f"{state.status} at step {state.step}"


def summary_table(entries: list[Entry]) -> str:
    rows = [("RESULT", "TASK", "STEPS", "TIME", "DETAIL")]
    for e in entries:
        took = f"{e.ended - e.started:.1f}s" if e.started and e.ended else "-"
        rows.append((outcome(e), e.name, str(e.state.step), took, detail(e)[:80]))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    ]
    verified = sum(outcome(e) == "verified" for e in entries)
    lines.append(f"{verified}/{len(entries)} verified")
    return "\n".join(lines)


def json_summary(entry: Entry) -> dict[str, Any]:
    base: dict[str, Any] = {"file": str(entry.path), "result": outcome(entry)}
    if entry.error is not None:
        return {**base, "error": entry.error}
    if entry.state.spec is None:
        return {**base, "task_id": entry.name}
    return {**base, **summarize(entry.state, with_code=False)}


def _op_name(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", path.stem) or "task"


def make_entries(args: argparse.Namespace, config: Config, pool: DevicePool) -> list[Entry]:
    entries = []
    for path in find_task_files(args.paths):
        entry = Entry(path)
        try:
            source = path.read_text()
            entry.task = Task(
                op_name=_op_name(path),
                task_desc=source,
                backend=args.backend,
                config=config,
                device_pool=pool,
                framework=detect_framework(source),
                task_type=args.task_type,
                limit_steps=args.limit_steps,
            )
            entry.task.source_path = str(path)
        except (TaskSpecError, OSError, UnicodeDecodeError) as exc:
            entry.error = str(exc)
        entries.append(entry)
    return entries


async def check_references(entries: list[Entry]) -> None:
    """A task file whose reference does not run becomes an error line, never a stream."""
    probes = asyncio.Semaphore(os.cpu_count() or 1)

    async def check(entry: Entry) -> None:
        assert entry.task is not None
        async with probes:
            try:
                await check_reference(entry.task, str(entry.path))
            except UsageError as exc:
                entry.task, entry.error = None, str(exc)

    await asyncio.gather(*(check(e) for e in entries if e.task is not None and not e.in_log))


async def take_over_entries(db: Path, entries: list[Entry], fresh: bool) -> list[Entry]:
    """Entries whose task the log already holds take its stream; returns those it finished
    (their state and time as recorded). Says what it found, before anything runs."""
    with_task = [e for e in entries if e.task is not None]
    resumption = await take_over(db, [e.task for e in with_task if e.task is not None], fresh)
    if (found := resumption.line("batch")) is not None:
        print(found, file=sys.stderr, flush=True)
    now = time.monotonic()
    for index in {**resumption.kept, **resumption.resumed}:
        with_task[index].in_log = True
    for index, recorded in resumption.kept.items():
        entry = with_task[index]
        entry.state, entry.started, entry.ended = recorded.state, now - recorded.wall_s, now
    return [with_task[i] for i in resumption.kept]


async def record_created(store: EventStore, entries: list[Entry]) -> None:
    """Every task's stream exists before any runs, so `aikg resume --all` sees them all."""
    for entry in entries:
        if entry.task is not None and not entry.in_log:
            created = entry.task.created_event()
            batch = [NewEvent(created.TYPE, created.to_payload(), created.VERSION)]
            await store.append(entry.task.task_id, batch, expected_seq=0)


async def run_entry(entry: Entry, slots: asyncio.Semaphore, display: BatchDisplay) -> None:
    task = entry.task
    assert task is not None
    async with slots:
        if task.interrupted_by is not None:
            return
        entry.started = time.monotonic()
        display.task_started(entry)
        try:
            await task.run()
            entry.state = task.state
        except Interrupted:
            return
        except Exception as exc:  # one task's bug must not stop the batch
            entry.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        entry.ended = time.monotonic()
        display.task_ended(entry)


async def record_never_started(store: EventStore, entries: list[Entry], signal: str) -> None:
    for entry in entries:
        if entry.task is not None and entry.started is None:
            interrupted = ev.TaskInterrupted(signal, "created", 0)
            batch = [NewEvent(interrupted.TYPE, interrupted.to_payload(), interrupted.VERSION)]
            await store.append(entry.task.task_id, batch)


def batch_config(args: argparse.Namespace) -> Config:
    config = config_for(args)
    changes: dict[str, Any] = {}
    if args.cluster:
        changes["kind"] = "ray"
        changes["address"] = args.cluster
    if args.capacity is not None:
        changes["capacity"] = args.capacity
    return config.updated({"devicepool": changes}) if changes else config


async def cmd_batch(args: argparse.Namespace) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {args.concurrency}")
    config = batch_config(args)
    check_event_log(resolve_db_path(config.db))
    pool = pool_for_batch(config, args.backend)
    entries = make_entries(args, config, pool)
    db = resolve_db_path(config.db)
    kept = await take_over_entries(db, entries, args.fresh)
    await check_references(entries)
    say_sandbox(config, args.quiet, gpu=args.backend == "cuda")
    stream = io.StringIO() if args.quiet else sys.stderr
    speedups = args.task_type == "profile" and args.backend != "cpu"
    display = BatchDisplay(entries, RunProgress(len(entries), stream, speedups))
    for entry in entries:
        if entry in kept:
            display.task_kept(entry)
        elif entry.task is not None:
            entry.task.subscribe(display.observe(entry))
        else:
            entry.ended = time.monotonic()
            display.task_ended(entry)
    concurrency = args.concurrency or 2 * len(pool.devices) * pool.capacity
    slots = asyncio.Semaphore(concurrency)
    to_run = [e for e in entries if e.task is not None and e not in kept]
    tasks = [e.task for e in to_run if e.task is not None]
    launches = [e.task.launch for e in entries if e.task is not None]  # kept ones spent too
    await share_batch_budget(config.agents.budget, db, launches, config.store.busy_timeout_s)
    async with await EventStore.open(db, busy_timeout_s=config.store.busy_timeout_s) as store:
        await record_created(store, entries)
        async with (
            verification_session(config, config.agents.secret_env_names()),
            publishing_occupancy(pool, db),
        ):
            with display.progress:
                runs = [run_entry(e, slots, display) for e in to_run]
                await interruptible(tasks, asyncio.gather(*runs))
        signal = next((t.interrupted_by for t in tasks if t.interrupted_by), None)
        if signal is not None:
            await record_never_started(store, entries, signal)
    if args.json:
        print(json.dumps([json_summary(e) for e in entries], indent=2))
    else:
        print(summary_table(entries))
    if signal is not None:
        print(
            "aikg: batch interrupted; run the same command again to go on "
            f"(or its tasks with `{resume_command(db)}`)",
            file=sys.stderr,
        )
        return EXIT_FOR_SIGNAL.get(signal, 130)
    return EXIT_OK if all(outcome(e) == "verified" for e in entries) else EXIT_FAILED
