"""`aikg ls`, `aikg show`, `aikg export`: read-only views of the log."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aikg.breakdown import step_breakdown_dicts, step_breakdown_lines
from aikg.commands import EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.reading import load_task_state, task_states
from aikg.readable import dollars, readable, speedup
from aikg.search_view import tree_lines
from aikg.summary import step_lines, summarize
from aikg.writable import check_writable_file
from machine.search.tree import candidate_rows, find_node, search_tree
from machine.state import TaskState

# What `aikg show` prints, in order, and how each value reads.
PLAIN_KEYS = (
    "task_id",
    "op_name",
    "backend",
    "arch",
    "framework",
    "task_type",
    "reference",
    "status",
    "message",
    "steps",
    "limit_steps",
    "best_step",
    "llm_calls",
    "tokens",
)
SHOW_FIELDS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    *((key, readable) for key in PLAIN_KEYS),
    ("cost_usd", dollars),
    ("speedup_vs_eager", speedup),
    ("speedup_vs_compile", speedup),
)


async def cmd_ls(args: argparse.Namespace) -> int:
    rows = [summarize(state, with_code=False) for state in await task_states(args)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no tasks yet: try `aikg run examples/swish.py`")
        return EXIT_OK
    print(f"{'TASK ID':40} {'OP':18} {'TARGET':12} {'STATUS':14} {'STEPS':>7}")
    for r in rows:
        target = f"{r['backend']}/{r['arch']}"
        steps = f"{r['steps']}/{r['limit_steps']}"
        print(f"{r['task_id']:40} {r['op_name']:18} {target:12} {r['status']:14} {steps:>7}")
    return EXIT_OK


async def cmd_show(args: argparse.Namespace) -> int:
    state = await load_task_state(args, args.task_id)
    if args.reference:
        assert state.spec is not None
        sys.stdout.write(state.spec.task_desc)
        return EXIT_OK
    summary = summarize(state, with_code=args.json or args.code)
    if args.json:
        candidates = candidate_rows(search_tree(state))
        shown = {**summary, "verify_time": step_breakdown_dicts(state), "candidates": candidates}
        print(json.dumps(shown, indent=2))
        return EXIT_OK
    for key, shown in SHOW_FIELDS:
        print(f"{key:18} {shown(summary[key])}")
    print()
    for line in step_lines(state):
        print(line)
    if state.nodes:
        print()
        print("search tree (* the best node's path):")
        for line in tree_lines(search_tree(state), summary["best_step"]):
            print(f"  {line}")
    times = step_breakdown_lines(state)
    if times:
        print()
        print("where the verification time went:")
        for line in times:
            print(f"  {line}")
    if args.code and summary.get("best_code"):
        print()
        print(summary["best_code"])
    return EXIT_OK


async def cmd_export(args: argparse.Namespace) -> int:
    if args.export_as == "op":
        from aikg.commands.op_export import export_op

        return await export_op(args)
    state = await load_task_state(args, args.task_id)
    if args.reference:
        assert state.spec is not None
        return _write(args.output, state.spec.task_desc)
    if args.node:
        return _export_node(args, state)
    best = state.best
    if best is None or best.code is None:
        print(
            f"aikg: error: task {args.task_id!r} has no verified kernel to export", file=sys.stderr
        )
        return EXIT_FAILED
    return _write(args.output, best.code)


def _export_node(args: argparse.Namespace, state: TaskState) -> int:
    """`--node N`: that node's kernel, verified or not (a failed one is said so)."""
    nodes = search_tree(state)
    node = find_node(nodes, args.node)
    if node is None:
        known = ", ".join(n.node_id for n in nodes) or "none"
        raise UsageError(
            f"--node {args.node}: task {args.task_id!r} has no such node (its nodes: {known}); "
            "see `aikg show TASK_ID`"
        )
    if node.attempt.code is None:
        print(f"aikg: error: node {node.node_id} has no code ({node.status})", file=sys.stderr)
        return EXIT_FAILED
    if node.status != "verified":
        print(f"aikg: note: node {node.node_id} is {node.status}, not verified", file=sys.stderr)
    return _write(args.output, node.attempt.code)


def _write(output: str | None, text: str) -> int:
    """`text` to the file `output` (its path printed), or to stdout."""
    if output:
        check_writable_file(Path(output), "-o", "pass -o a path in a writable directory")
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text)
        print(output)
    else:
        sys.stdout.write(text)
    return EXIT_OK
