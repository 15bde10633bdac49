"""`aikg run` and `aikg resume`: run tasks to their end, resumably."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aikg.commands import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.common import config_for, pool_for
from aikg.commands.prose_task import op_name_for, prose_overrides, settle_reference, task_text
from aikg.commands.reading import db_path, load_task_state, task_states
from aikg.commands.sandbox_notice import say_sandbox
from aikg.config import Config
from aikg.export import export_kernel
from aikg.interrupts import EXIT_FOR_SIGNAL, interruptible, resume_command
from aikg.progress import ProgressPrinter
from aikg.reference_check import check_reference
from aikg.summary import summarize
from aikg.writable import check_event_log, check_writable_dir, check_writable_file
from machine.interrupted import Interrupted
from machine.recorder import load_state
from machine.spec import check_task_source
from machine.task import Task
from store import EventStore, resolve_db_path
from verifier.task_framework import detect_framework


async def cmd_run(args: argparse.Namespace) -> int:
    source, described_in = task_text(args)
    framework = args.framework or detect_framework(source)
    if described_in.endswith(".py"):
        check_task_source(source, framework, "task file")
    config = config_for(args)
    overrides = prose_overrides(args)
    if overrides:
        config = config.updated(overrides)
    task = Task(
        op_name=op_name_for(args, source),
        task_desc=source,
        task_id=args.task_id,
        backend=args.backend,
        arch=args.arch,
        impl_type=args.impl_type,
        config=config,
        device_pool=pool_for(config, args.backend),
        framework=framework,
        task_type=args.task_type,
        limit_steps=args.limit_steps,
    )
    if args.task_file is not None:
        task.source_path = str(Path(args.task_file).resolve())
    if args.task_id and not await _may_continue(args, task.task_id):
        return EXIT_BAD_INPUT
    stopped = await settle_reference(task, args.confirm)
    if stopped is not None:
        return stopped
    return await run_tasks_and_report(args, task, config, new_from=described_in)


async def _may_continue(args: argparse.Namespace, task_id: str) -> bool:
    """An unfinished stream of that id: resume with --resume, or ask on a terminal."""
    path = db_path(args)
    if not path.exists():
        return True
    store = await EventStore.open(path, readonly=True)
    try:
        state = await load_state(store, task_id)
    finally:
        await store.close()
    if state.spec is None or state.finished is not None or args.resume:
        return True
    where = f"{state.status}, step {state.step}/{state.spec.limit_steps}"
    if sys.stdin.isatty():
        answer = input(f"task {task_id} is unfinished ({where}); resume it? [Y/n] ")
        return answer.strip().lower() in ("", "y", "yes")
    raise UsageError(
        f"task {task_id} is unfinished ({where}): pass --resume to continue it, "
        "or choose another --task-id"
    )


async def run_tasks_and_report(
    args: argparse.Namespace, task: Task, config: Config, new_from: str | None = None
) -> int:
    """Run `task` to its end and print the summary. `new_from`: the task file of a task not
    yet recorded, whose reference is checked first."""
    check_outputs(config, getattr(args, "output", None))
    if new_from is not None:
        await check_reference(task, new_from)
    await (await EventStore.open(resolve_db_path(config.db))).close()  # a bad file stops here
    say_sandbox(config, args.quiet, gpu=task.backend == "cuda")
    if not args.quiet:
        task.subscribe(ProgressPrinter())
        print(f"aikg: task {task.task_id} ({task.backend}/{task.arch})", file=sys.stderr)
    try:
        ok = await interruptible([task], task.run())
    except Interrupted as exc:
        resume = resume_command(resolve_db_path(config.db), task.task_id)
        print(
            f"aikg: task {task.task_id} interrupted {exc.detail}; continue it with `{resume}`",
            file=sys.stderr,
        )
        return EXIT_FOR_SIGNAL.get(exc.signal_name, 130)
    output = getattr(args, "output", None)
    exported = export_kernel(task.state, output or Path(config.export_dir) / f"{task.task_id}.py")
    summary = summarize(task.state)
    summary["kernel_path"] = str(exported) if exported else None
    print(json.dumps(summary, indent=2) if args.json else one_line(summary))
    return EXIT_OK if ok else EXIT_FAILED


def check_outputs(config: Config, output: str | None) -> None:
    """The event log and where the kernel goes can be written: found now, not after the run."""
    check_event_log(resolve_db_path(config.db))
    if output:
        check_writable_file(Path(output), "-o", "pass -o a path in a writable directory")
    else:
        check_writable_dir(
            Path(config.export_dir),
            "export_dir",
            "pass -o FILE, or set export_dir in a --config file to a writable directory",
        )


def one_line(summary: dict[str, Any]) -> str:
    steps = f"{summary['steps']}/{summary['limit_steps']} steps"
    if summary["success"]:
        speed = summary.get("speedup_vs_eager")
        speed_text = f", {speed:.2f}x vs eager" if speed else ""
        return f"verified: {summary['op_name']} in {steps}{speed_text} -> {summary['kernel_path']}"
    return (
        f"not verified: {summary['op_name']} ({summary['status']}: {summary['message']}) "
        f"after {steps}"
    )


async def cmd_resume(args: argparse.Namespace) -> int:
    if args.all == bool(args.task_id):
        raise UsageError("give either a TASK_ID or --all")
    if args.task_id:
        states = [await load_task_state(args, args.task_id)]
    else:
        states = [state for state in await task_states(args) if state.finished is None]
    if not states:
        print("nothing to resume: every task in the log has finished", file=sys.stderr)
        return EXIT_OK
    worst = EXIT_OK
    for state in states:
        assert state.spec is not None
        if state.finished is not None:  # only a TASK_ID names one: nothing to resume
            task_id = state.spec.task_id
            print(
                f"aikg: task {task_id} already finished ({state.finished.reason}): nothing to "
                f"resume; see `aikg show {task_id}`",
                file=sys.stderr,
            )
            return EXIT_FAILED
        base = Config.from_recorded(state.spec.config)
        config = config_for(args, base).updated({"db": str(db_path(args))})
        task = Task.from_created(state.spec, config, pool_for(config, state.spec.backend))
        code = await run_tasks_and_report(args, task, config)
        if code in EXIT_FOR_SIGNAL.values():
            return code
        worst = max(worst, code)
    return worst
