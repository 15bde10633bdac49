"""The `aikg` command line's grammar: every subcommand and flag, and nothing heavier.

Building the parser imports no framework, so `--help` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from aikg.commands import EXIT_BAD_INPUT
from aikg.commands.flags import (
    add_budget_flag,
    add_llm_flags,
    add_sandbox_flags,
    add_store_flags,
)
from aikg.commands.op_flags import add_export_op_flags, add_pack_parser
from aikg.commands.prose_flags import add_prose_flags
from aikg.commands.search_flags import add_search_flags

EPILOG = """examples:
  aikg run examples/swish.py                    verify a Triton kernel for swish on the CPU
  aikg run task.py --backend cuda --task-type profile --limit-steps 20
  aikg run --desc "Swish: x * sigmoid(beta * x)" --param beta=1.5   a task in prose
  aikg ls                                       every task in the event log
  aikg show TASK_ID                             a task's steps, decisions and result
  aikg export TASK_ID -o kernel.py              write a task's best kernel
  aikg export TASK_ID --as op -o ops/k.py       ... as a PyTorch custom op
  aikg resume --all                             continue every interrupted task
  aikg batch tasks/ --devices cpu:0,cpu:1       run every task file in a folder
  aikg replay TASK_ID                           re-run a task from its log and compare
  aikg verify ref.py candidate.py --json        check a hand-written kernel

data: events go to ./.aikg/events.db (override with --db or $AIKG_DB);
kernels are exported to ./.aikg/kernels/ by default."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"aikg: error: {message} (see `{self.prog} --help`)\n")


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", help="event log (default: $AIKG_DB or .aikg/events.db)"
    )


def _add_run_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object with the result")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--devices", help="devices to use, e.g. cuda:0,cuda:1 (default: all of the backend)"
    )
    parser.add_argument(
        "--config", metavar="FILE", help="YAML config overriding configs/default.yaml"
    )
    add_llm_flags(parser)
    add_store_flags(parser)
    add_sandbox_flags(parser)
    _add_db(parser)


def _add_fresh(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start every task anew instead of keeping the finished tasks of the same run "
        "already in the log and resuming the interrupted ones",
    )


def _add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="generate and verify a kernel for one task file",
        description="Run the Designer/Coder/Verifier/Conductor loop on a KernelBench-format "
        "task file until a kernel verifies (or, in profile mode, stops getting faster).",
    )
    run.add_argument(
        "task_file",
        metavar="TASK_FILE",
        nargs="?",
        help="defines Model, get_inputs, get_init_inputs; or a .txt/.md file in prose",
    )
    run.add_argument("--op-name", help="operator name (default: the file's stem)")
    run.add_argument(
        "--task-id", help="stream id in the event log (default: OP-YYYYMMDD-HHMMSS-<4 hex digits>)"
    )
    run.add_argument("--backend", default="cpu", help="cpu | cuda | ascend (default: cpu)")
    run.add_argument("--arch", help="target arch, e.g. h100, a100, ascend910b4 (default: detected)")
    run.add_argument("--impl-type", default="triton", help="triton | swft (default: triton)")
    run.add_argument(
        "--framework",
        help="torch | numpy | mindspore (default: read from the task file: nn.Module is "
        "torch, nn.Cell mindspore, a plain class over NumPy arrays numpy)",
    )
    run.add_argument("--task-type", default="precision_only", help="precision_only | profile")
    run.add_argument(
        "--limit-steps", type=int, default=10, metavar="N", help="most steps (default: 10)"
    )
    run.add_argument("-o", "--output", metavar="FILE", help="where to export the best kernel")
    add_search_flags(run)
    add_budget_flag(run)
    run.add_argument("--resume", action="store_true", help="continue --task-id if it is unfinished")
    add_prose_flags(run)
    _add_run_output(run)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="aikg",
        description="aikg turns a reference operator into a verified, profiled Triton kernel.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add_run(sub)
    _add_batch(sub)
    _add_doctor(sub)

    resume = sub.add_parser("resume", help="continue interrupted tasks from their event log")
    resume.add_argument("task_id", metavar="TASK_ID", nargs="?")
    resume.add_argument("--all", action="store_true", help="every unfinished task in the log")
    _add_run_output(resume)

    bench = sub.add_parser(
        "bench",
        help="run a suite of task files in profile mode and write a report",
        description="Run every task (default: benchmarks/suite) through the full loop in "
        "profile mode; write report.md, report.json and speedup.png to --out.",
    )
    bench.add_argument("paths", metavar="PATH", nargs="*", help="task files or directories")
    bench.add_argument("--backend", default="cpu", help="cpu | cuda (default: cpu)")
    bench.add_argument(
        "--shapes",
        choices=("default", "small"),
        help="input shapes (default: small on cpu, default on cuda)",
    )
    bench.add_argument("--filter", metavar="PATTERN", help="glob or substring of task names")
    bench.add_argument("--out", metavar="DIR", help="report folder (default: bench-BACKEND-TIME)")
    bench.add_argument(
        "--limit-steps", type=int, default=6, metavar="N", help="steps per task (default: 6)"
    )
    add_search_flags(bench)
    add_budget_flag(bench)
    _add_run_output(bench)
    _add_fresh(bench)

    replay = sub.add_parser(
        "replay",
        help="re-run a task from its log (no LLM calls) and report any divergence",
        description="Rebuild a run from its events: recorded LLM outputs are served, built-in "
        "agent outputs are generated again and compared, and every step is checked against "
        "the recording. Exit 1 on any divergence.",
    )
    replay.add_argument("task_id", metavar="TASK_ID")
    replay.add_argument("--until", type=int, metavar="SEQ", help="stop after this event")
    replay.add_argument("--reverify", action="store_true", help="run the verifications again")
    _add_db(replay)

    fork = sub.add_parser(
        "fork",
        help="start a new task from another's history up to an event, with new settings",
    )
    fork.add_argument("task_id", metavar="TASK_ID")
    fork.add_argument("--at", type=int, metavar="SEQ", help="last event to keep")
    fork.add_argument(
        "--node",
        metavar="N",
        help="start a new search from search node N (n3 or 3): its lineage is kept",
    )
    fork.add_argument("--limit-steps", type=int, metavar="N", help="a new step limit")
    fork.add_argument("--task-id", dest="task_id_new", metavar="NEW_ID", help="the fork's id")
    add_search_flags(fork)
    _add_run_output(fork)

    db = sub.add_parser("db", help="check, export or import the event log")
    db_sub = db.add_subparsers(
        dest="db_command", metavar="ACTION", parser_class=Parser, required=True
    )
    check = db_sub.add_parser(
        "check", help="integrity: gaps, unknown types, bad JSON, SQLite, streams whose writer died"
    )
    check.add_argument("--json", action="store_true", help="print problems and notes as JSON")
    _add_db(check)
    export_db = db_sub.add_parser("export", help="write events as JSON lines to stdout")
    export_db.add_argument("task_ids", metavar="TASK_ID", nargs="*", help="default: every stream")
    _add_db(export_db)
    import_db = db_sub.add_parser("import", help="append the streams of a JSON-lines file")
    import_db.add_argument("file", metavar="FILE.jsonl")
    _add_db(import_db)

    ls = sub.add_parser("ls", help="list tasks in the event log")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    _add_db(ls)

    show = sub.add_parser("show", help="show one task: steps, decisions, result, cost")
    show.add_argument("task_id", metavar="TASK_ID")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.add_argument("--code", action="store_true", help="also print the best kernel")
    show.add_argument("--reference", action="store_true", help="print the task's reference")
    _add_db(show)

    export = sub.add_parser("export", help="write a task's best kernel to a file (or stdout)")
    export.add_argument("task_id", metavar="TASK_ID")
    export.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    add_export_op_flags(export)
    export.add_argument(
        "--reference", action="store_true", help="write the task's reference, not its kernel"
    )
    export.add_argument(
        "--node", metavar="N", help="write node N's kernel (n3 or 3; see aikg show) instead"
    )
    _add_db(export)
    _add_db(add_pack_parser(sub))

    sub.add_parser(
        "tui", help="the live dashboard: tasks, code diffs, devices, replay", add_help=False
    )
    sub.add_parser(
        "verify", help="check a candidate kernel file against a reference task file", add_help=False
    )
    return parser


def _add_doctor(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="what this machine can do: versions, devices, Triton mode, event log, LLM",
        description="One screen on this machine: Python, torch and Triton, the devices and "
        "the arch aikg names, whether Triton compiles or interprets, a GPU's copy bandwidth "
        "and matmul rate (measured once, cached), the optional extras, the verifier's "
        "sandbox, the event log's health and the LLM endpoint. Exit 0 when `aikg run "
        "examples/swish.py` can work here, 1 when it cannot.",
    )
    doctor.add_argument("--config", metavar="FILE", help="YAML config overriding the defaults")
    add_llm_flags(doctor)
    _add_db(doctor)


def _add_batch(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser(
        "batch",
        help="run every task file under the given paths on shared devices",
        description="Find task files (directories are searched recursively for .py files "
        "defining `class Model`) and run each as its own task, sharing one device pool.",
    )
    batch.add_argument("paths", nargs="+", metavar="PATH", help="task files or directories")
    batch.add_argument("--devices", help="e.g. cpu:0,cpu:1 or cuda:0,cuda:1 (default: detected)")
    batch.add_argument("--capacity", type=int, metavar="N", help="verifications at once per device")
    batch.add_argument(
        "--concurrency", type=int, metavar="N", help="tasks at once (default: 2 per device slot)"
    )
    batch.add_argument("--limit-steps", type=int, default=10, metavar="N", help="default: 10")
    batch.add_argument("--backend", default="cpu", help="cpu | cuda | ascend (default: cpu)")
    batch.add_argument("--task-type", default="precision_only", help="precision_only | profile")
    add_search_flags(batch)
    add_budget_flag(batch)
    add_llm_flags(batch)
    add_store_flags(batch)
    add_sandbox_flags(batch)
    batch.add_argument("--cluster", metavar="ADDRESS", help="verify on the Ray cluster there")
    batch.add_argument("--config", metavar="FILE", help="YAML config overriding the defaults")
    batch.add_argument("--json", action="store_true", help="print a JSON list of task summaries")
    batch.add_argument("-q", "--quiet", action="store_true", help="no live progress")
    _add_db(batch)
    _add_fresh(batch)
