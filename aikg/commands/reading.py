"""Reading the event log for the commands: where it is, opening it, folding its tasks.

Nothing here imports a framework or the config, so `aikg ls` and `aikg show` start fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aikg.commands import UsageError
from machine.recorder import load_state
from machine.state import TaskState
from store import EventStore, resolve_db_path


def db_path(args: argparse.Namespace) -> Path:
    return resolve_db_path(getattr(args, "db", None))


async def open_existing_store(args: argparse.Namespace, readonly: bool = True) -> EventStore:
    path = db_path(args)
    if not path.exists():
        raise UsageError(f"no event log at {path}: run a task first, or pass --db PATH")
    return await EventStore.open(path, readonly=readonly)


async def load_task_state(args: argparse.Namespace, task_id: str) -> TaskState:
    store = await open_existing_store(args)
    try:
        state = await load_state(store, task_id)
    finally:
        await store.close()
    if state.spec is None:
        raise UsageError(f"no task {task_id!r} in the event log: see `aikg ls`")
    return state


async def task_states(args: argparse.Namespace) -> list[TaskState]:
    """Every task in the log, folded, in the order they were created."""
    store = await open_existing_store(args)
    try:
        states = [await load_state(store, info.stream) for info in await store.streams()]
    finally:
        await store.close()
    return [state for state in states if state.spec is not None]
