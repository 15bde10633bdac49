"""`aikg tui [--db PATH] [--task TASK_ID]`: open the dashboard on an event store.

Also runnable as `python -m tui.tui_command`. The store is resolved like every other command:
--db, then $AIKG_DB, then ./.aikg/events.db.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from store import EventStore, StoreError, resolve_db_path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aikg tui", description="Watch tasks live, or replay any task's events."
    )
    parser.add_argument("--db", help="event store (default: $AIKG_DB or ./.aikg/events.db)")
    parser.add_argument("--task", help="open this task's view at start")
    return parser


async def _check_store(path: Path) -> None:
    """Open and close the store once, so a bad file is a plain error before the screen."""
    store = await EventStore.open(path, readonly=True)
    await store.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path = resolve_db_path(args.db, os.environ)
    if not path.is_file():
        print(
            f"aikg tui: no event store at {path}; run a task first, or pass --db PATH",
            file=sys.stderr,
        )
        return 2
    try:
        asyncio.run(_check_store(path))
    except StoreError as exc:
        print(f"aikg tui: {exc}", file=sys.stderr)
        return 2
    from tui.app import run_tui  # deferred: Textual is slow to import

    return run_tui(path, args.task)


if __name__ == "__main__":
    raise SystemExit(main())
