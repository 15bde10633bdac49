"""The flags of `aikg run` for a task described in prose (light: the parser imports it)."""

from __future__ import annotations

import argparse


def add_prose_flags(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--desc",
        metavar="TEXT",
        help='the task in prose instead of a file, e.g. "Swish: x * sigmoid(beta * x)"',
    )
    run.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="a prose parameter"
    )
    run.add_argument(
        "--shape", action="append", default=[], metavar="NAME=AxB", help="a prose input's shape"
    )
    run.add_argument(
        "--dtype", action="append", default=[], metavar="NAME=DTYPE", help="a prose input's dtype"
    )
    run.add_argument(
        "--confirm", action="store_true", help="ask before running against a reference from prose"
    )
