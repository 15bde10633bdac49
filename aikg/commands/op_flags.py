"""The flags of `aikg export --as op` and the `aikg pack` subcommand (docs/export.md)."""

from __future__ import annotations

import argparse


def _add_op_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace",
        default="aikg",
        metavar="NAME",
        help="the custom op's namespace: torch.ops.NAME.OP (default: aikg)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="raise on inputs outside the verified envelope instead of running the reference",
    )


def add_export_op_flags(export: argparse.ArgumentParser) -> None:
    """`--as kernel|op --namespace NAME --strict` on `aikg export`."""
    export.add_argument(
        "--as",
        dest="export_as",
        choices=("kernel", "op"),
        default="kernel",
        help="kernel: the candidate module (default); op: a module registering a PyTorch "
        "custom op that works under torch.compile",
    )
    _add_op_flags(export)


def add_pack_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`aikg pack TASK_ID... -o DIR [--name NAME]`; the caller adds --db."""
    pack = sub.add_parser(
        "pack",
        help="write verified kernels as one pip-installable package of PyTorch custom ops",
        description="Export each task's best kernel as a custom op module (as `aikg export "
        "--as op`) into DIR/NAME/, with DIR/pyproject.toml: `pip install DIR` then "
        "`import NAME` registers every op.",
    )
    pack.add_argument("task_ids", metavar="TASK_ID", nargs="+")
    pack.add_argument("-o", "--output", metavar="DIR", required=True, help="the package folder")
    pack.add_argument("--name", help="the import name (default: DIR's name)")
    _add_op_flags(pack)
    return pack
