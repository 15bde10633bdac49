"""Paths a command will write (the event log, exported kernels), checked before a task starts.

A check never opens the event log itself: only SQLite may open that file (closing any other
descriptor of it would drop this process's SQLite locks). Permissions are asked of the OS
(`os.access`), which also answers for read-only file systems.
"""

from __future__ import annotations

import os
from pathlib import Path

from aikg.commands import UsageError


def _dir_problem(directory: Path) -> str | None:
    """Why no file can be created in `directory` (made if missing); None when one can."""
    existing = directory.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _file_problem(path: Path, beside: bool) -> str | None:
    if path.is_dir():
        return f"{path} is a directory"
    if not path.exists():
        return _dir_problem(path.parent)
    if not os.access(path, os.W_OK):
        return f"{path} is read-only"
    return _dir_problem(path.parent) if beside else None


def check_writable_file(path: Path, what: str, fix: str, *, beside: bool = False) -> None:
    """Raise a one-line UsageError unless `path` can be created or overwritten (and, with
    `beside`, files created next to it: SQLite's -wal and -shm).

    `what` names the path for the user (`--db PATH`), `fix` says what to do instead.
    """
    problem = _file_problem(path, beside)
    if problem is not None:
        raise UsageError(f"cannot write {what} {path}: {problem}: {fix}")


def check_writable_dir(directory: Path, what: str, fix: str) -> None:
    """Raise a one-line UsageError unless files can be created in `directory`."""
    problem = _dir_problem(directory)
    if problem is not None:
        raise UsageError(f"cannot write {what} {directory}: {problem}: {fix}")


def check_event_log(path: Path) -> None:
    """The log, and SQLite's -wal and -shm beside it, can be written."""
    check_writable_file(
        path,
        "the event log",
        "pass --db (or set AIKG_DB) to a file in a writable directory",
        beside=True,
    )
