"""`aikg run` of a task described in prose: `--desc`, a .txt/.md file, the values flags give,
and showing (and with --confirm, asking about) the reference before anything runs."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from aikg.commands import UsageError
from aikg.config import parse_shape
from aikg.interrupts import EXIT_FOR_SIGNAL
from machine import events as ev
from machine.interrupted import LLM_OUTAGE
from machine.prose import stated_lines
from machine.task import Task


def prose_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys `--param`, `--shape` and `--dtype` set."""
    overrides: dict[str, Any] = {}
    for flag, key, read in (
        ("--param", "params", _number),
        ("--shape", "shapes", parse_shape),
        ("--dtype", "dtypes", str),
    ):
        for item in getattr(args, key[:-1]):
            name, equals, value = item.partition("=")
            if not equals or not name.strip().isidentifier() or not value.strip():
                raise UsageError(f"{flag} {item!r}: write NAME=VALUE, e.g. {_EXAMPLES[flag]}")
            try:
                overrides.setdefault(key, {})[name.strip()] = read(value.strip())
            except ValueError as exc:
                raise UsageError(f"{flag} {item!r}: {exc}") from None
    return overrides


_EXAMPLES = {
    "--param": "--param beta=1.5",
    "--shape": "--shape x=4096x4096",
    "--dtype": "x=float16",
}


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("the value must be a number, e.g. 1.5") from None


def task_text(args: argparse.Namespace) -> tuple[str, str]:
    """(the task's text, where it came from: the file's path or --desc)."""
    if args.desc is not None and args.task_file is not None:
        raise UsageError("give a TASK_FILE or --desc, not both")
    if args.desc is not None:
        if not args.desc.strip():
            raise UsageError(
                '--desc is empty: describe the task, e.g. --desc "Swish: x * sigmoid(x)"'
            )
        return args.desc, "--desc"
    if args.task_file is None:
        raise UsageError('give a TASK_FILE (.py, or prose in .txt/.md) or --desc "Name: formula"')
    return _read(args.task_file), args.task_file


def _read(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise UsageError(
            f"task file {path} not found: pass the path of a KernelBench-format .py file, "
            "or of a .txt/.md file describing the task in prose"
        )
    try:
        return file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read task file {path}: {exc}") from None


def op_name_for(args: argparse.Namespace, text: str) -> str:
    """--op-name, else the file's stem, else the prose's name (before its ':') as a word."""
    if args.op_name:
        return args.op_name
    if args.task_file is not None:
        return Path(args.task_file).stem
    title = text.partition(":")[0] or text
    words = re.findall(r"[a-z0-9]+", title.lower())[:4]
    return "_".join(words) or "prose_task"


async def settle_reference(task: Task, confirm: bool) -> int | None:
    """Write (with an LLM Designer) and show a prose task's reference before it runs.

    None to go on; an exit code when the LLM did not answer (nothing was recorded)."""
    from agents.llm.client import LLMUnavailable

    try:
        reference = await task.propose_reference()
    except LLMUnavailable as exc:
        print(
            f"aikg: the Designer's model did not answer while writing the reference from the "
            f"prose ({exc}); nothing was recorded: run the same command again once it answers",
            file=sys.stderr,
        )
        return EXIT_FOR_SIGNAL[LLM_OUTAGE]
    if reference is not None:
        show_reference(reference, confirm)
    return None


def show_reference(reference: ev.ReferenceProposed, confirm: bool) -> None:
    """Print the reference written from prose; with `confirm`, ask before going on."""
    for line in stated_lines(reference):
        print(f"aikg: {line}", file=sys.stderr)
    print(reference.source, file=sys.stderr)
    if not confirm:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "--confirm needs a terminal to ask on: read the reference above, then run again "
            "without --confirm; nothing was recorded"
        )
    answer = input("run against this reference? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("the reference was not accepted: nothing was recorded")
