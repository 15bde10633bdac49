"""Pieces several commands share: config from flags, opening the log, loading a task."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aikg.commands import UsageError
from aikg.config import Config, load_config
from machine.recorder import load_state
from machine.state import TaskState
from store import EventStore, resolve_db_path


def config_for(args: argparse.Namespace, base: Config | None = None) -> Config:
    """The config file (or `base`), then the command line's overrides."""
    overrides: dict[str, Any] = {}
    if getattr(args, "db", None):
        overrides["db"] = args.db
    if getattr(args, "devices", None):
        overrides["devices"] = [d for d in args.devices.split(",") if d]
    llm = getattr(args, "llm", None)
    if llm:
        if llm != "builtin":
            raise UsageError(f"--llm {llm}: this build offers only --llm builtin")
        overrides["agents"] = {
            "designer": {"provider": "builtin"},
            "coder": {"provider": "builtin"},
        }
    if base is not None and not getattr(args, "config", None):
        return base.updated(overrides) if overrides else base
    return load_config(getattr(args, "config", None), overrides or None)


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
