"""The `aikg` command: dispatch to a handler, and the one place errors become one line and
an exit code (a closed stdout pipe included)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from aikg.commands import EXIT_BAD_INPUT, EXIT_OK, UsageError
from aikg.parser import build_parser

# Exit status of a command whose reader went away (`aikg ls | head -1`): 128 + SIGPIPE,
# what a shell reports for a process the closed pipe stopped.
EXIT_PIPE_CLOSED = 141
EXIT_INTERRUPTED = 130  # 128 + SIGINT

# "command": "module:function". Only the handler's own module is imported, so commands
# that only read the log never load torch, Triton or the LLM client.
HANDLERS = {
    "bench": "bench:cmd_bench",
    "db check": "db:cmd_db_check",
    "db export": "db:cmd_db_export",
    "db import": "db:cmd_db_import",
    "replay": "history:cmd_replay",
    "fork": "history:cmd_fork",
    "run": "run:cmd_run",
    "resume": "run:cmd_resume",
    "batch": "batch:cmd_batch",
    "ls": "inspect:cmd_ls",
    "show": "inspect:cmd_show",
    "export": "inspect:cmd_export",
    "doctor": "doctor:cmd_doctor",
    "pack": "op_export:cmd_pack",
}


def _handler(command: str) -> Callable[[argparse.Namespace], Awaitable[int]]:
    module, function = HANDLERS[command].split(":")
    return getattr(importlib.import_module(f"aikg.commands.{module}"), function)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _dispatch(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        # The reader stopped reading: nothing is wrong. Point stdout at /dev/null so the
        # interpreter's last flush does not fail again, and leave quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except KeyboardInterrupt:
        # Ctrl-C outside a task's run (loading, checking the reference, reading the log);
        # a running task handles it itself (aikg.interrupts) and says how to resume.
        print("aikg: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


def _dispatch(argv: list[str]) -> int:
    if argv[:1] == ["tui"]:
        from tui.tui_command import main as tui_main

        return tui_main(argv[1:])
    if argv[:1] == ["verify"]:
        from verifier.verify_command import main as verify_main

        return verify_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed help (0) or a one-line usage error (2)
        return EXIT_OK if exc.code in (0, None) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    command = args.command
    if command == "db":
        command = f"db {args.db_command}"
    try:
        return asyncio.run(_handler(command)(args))
    except BrokenPipeError:
        raise  # main() answers it, without importing what `_is_user_error` needs
    except Exception as exc:
        if _is_user_error(exc):
            print(f"aikg: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        raise


def _is_user_error(exc: Exception) -> bool:
    from store import StoreError

    if isinstance(exc, UsageError | StoreError):
        return True
    # Imported only now: these modules are heavy, and loaded already when they raised.
    from aikg.config import ConfigError
    from devicepool import DevicePoolError
    from machine.agent_factory import AgentConfigError
    from machine.spec import TaskSpecError

    return isinstance(exc, ConfigError | DevicePoolError | AgentConfigError | TaskSpecError)
