"""Graceful Ctrl-C / SIGTERM for commands that run tasks.

The first signal asks every running task to stop: each records `task.interrupted`,
releases its device and the command exits 130 (SIGINT) or 143 (SIGTERM). A second signal
stops the process at once.
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import TypeVar

from machine.interrupted import LLM_OUTAGE
from machine.task import Task

T = TypeVar("T")
# Exit codes of a run that stopped resumably: 128 + the signal's number, 3 for an LLM outage.
EXIT_FOR_SIGNAL = {"SIGINT": 130, "SIGTERM": 143, LLM_OUTAGE: 3}


async def interruptible(tasks: Iterable[Task], work: Awaitable[T]) -> T:
    """Await `work` with signal handlers that interrupt `tasks` (a list that may grow)."""
    loop = asyncio.get_running_loop()
    live = tasks

    def stop(name: str) -> None:
        print(f"aikg: {name}: stopping; press Ctrl-C again to stop at once", file=sys.stderr)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_DFL)
        for task in live:
            task.interrupt(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        return await work
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def resume_command(db: Path, task_id: str | None = None) -> str:
    """The command that continues `task_id` (every unfinished task when None) in `db`."""
    which = shlex.quote(task_id) if task_id else "--all"
    return f"aikg resume {which} --db {shlex.quote(str(db))}"
