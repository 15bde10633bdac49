"""`aikg replay` and `aikg fork`: a recorded run re-driven, or branched at any event."""

from __future__ import annotations

import argparse
import secrets
import sys
from dataclasses import replace
from typing import Any

from aikg.commands import EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.common import config_for, pool_for
from aikg.commands.reading import db_path, open_existing_store
from aikg.commands.run import check_outputs, run_tasks_and_report
from aikg.config import Config
from machine import events as ev
from machine.recorder import decode_stored
from machine.replay import Recorded, replay_task
from machine.search.fork import ForkError, lineage_events
from machine.task import Task
from store import EventStore, NewEvent

# Bookkeeping a fork does not copy: the new stream starts its own life from SEQ.
NOT_FORKED = (ev.TaskFinished, ev.TaskInterrupted)


async def read_recorded(args: argparse.Namespace, task_id: str) -> Recorded:
    store = await open_existing_store(args)
    try:
        stored = await store.read_stream(task_id)
    finally:
        await store.close()
    if not stored:
        raise UsageError(f"no task {task_id!r} in the event log: see `aikg ls`")
    if stored[0].type != ev.TaskCreated.TYPE:
        raise UsageError(f"stream {task_id!r} is not a task (it starts with {stored[0].type})")
    return Recorded([(s.seq, s.ts, decode_stored(s)) for s in stored])


async def cmd_replay(args: argparse.Namespace) -> int:
    recorded = await read_recorded(args, args.task_id)
    if args.until is not None and args.until < 1:
        raise UsageError("--until must be a sequence number of 1 or more")
    if args.reverify:
        from machine.verification import verifier_session

        settings = Config.from_recorded(recorded.created.config).verifier  # as recorded
        async with verifier_session(
            settings.mode, (), settings.memory_headroom_gib, settings.sandbox
        ) as verifier:
            report = await replay_task(recorded, until=args.until, reverify=verifier)
    else:
        report = await replay_task(recorded, until=args.until)
    print(f"replay of {report.task_id}" + (f" until seq {args.until}" if args.until else ""))
    print(f"{'SEQ':>5} {'STEP':>4} {'AT':>8}  {'EVENT':18} SUMMARY")
    for line in report.trace:
        mark = "" if line.difference is None else f"   <-- DIFFERS: {line.difference}"
        print(
            f"{line.seq:>5} {line.step:>4} {line.offset_s:>7.1f}s  {line.type:18} "
            f"{line.summary}{mark}"
        )
    if report.ok:
        print(f"replay matches the recording ({len(report.trace)} events compared)")
        return EXIT_OK
    print(f"aikg: replay diverged: {report.divergence}", file=sys.stderr)
    return EXIT_FAILED


async def cmd_fork(args: argparse.Namespace) -> int:
    if (args.at is None) == (args.node is None):
        raise UsageError("give either --at SEQ (an event) or --node N (a search node)")
    recorded = await read_recorded(args, args.task_id)
    last = recorded.events[-1][0]
    if args.at is not None and not 1 <= args.at <= last:
        raise UsageError(f"--at {args.at}: {args.task_id} has events 1..{last}")
    original = recorded.created
    base = Config.from_recorded(original.config)
    config = config_for(args, base).updated({"db": str(db_path(args))})
    point = f"node {args.node}" if args.node else f"seq {args.at}"
    mark = f"-{args.node}" if args.node else str(args.at)
    new_id = args.task_id_new or f"{original.task_id}-fork{mark}-{secrets.token_hex(2)}"
    if args.node is None:
        copied = [e for seq, _, e in recorded.events[1:] if seq <= args.at]
        where: dict[str, Any] = {"seq": args.at}
    else:  # a replay takes the copied lineage as given (machine/replay.py)
        copied = _search_from_node(recorded, args.node, config)
        where = {"node": args.node, "copied": len(copied)}
    created = replace(
        original,
        task_id=new_id,
        limit_steps=args.limit_steps or original.limit_steps,
        config=config.model_dump(mode="json"),
        config_digest=config.digest(),
        forked_from={"task_id": original.task_id, **where},
    )
    check_outputs(config, None)
    batch = [created, *(e for e in copied if not isinstance(e, NOT_FORKED))]
    async with await EventStore.open(db_path(args)) as store:
        if await store.last_seq(new_id):
            raise UsageError(f"task {new_id!r} already exists: choose another --task-id")
        await store.append(
            new_id, [NewEvent(e.TYPE, e.to_payload(), e.VERSION) for e in batch], expected_seq=0
        )
    print(f"aikg: forked {original.task_id} at {point} as {new_id}", file=sys.stderr)
    task = Task.from_created(created, config, pool_for(config, created.backend))
    return await run_tasks_and_report(args, task, config)


def _search_from_node(recorded: Recorded, node: str, config: Config) -> list[ev.Event]:
    """`--node N`: N's lineage as the first nodes of a new search."""
    if config.search.strategy == "linear":
        raise UsageError(
            "--node starts a new search from that node: pass --search beam or --search evolve "
            "(or fork a linear run at an event with --at SEQ)"
        )
    try:
        return lineage_events([e for _, _, e in recorded.events], node)
    except ForkError as exc:
        raise UsageError(f"{exc}; see `aikg show {recorded.created.task_id}`") from None
