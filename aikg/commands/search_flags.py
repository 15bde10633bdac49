"""`--search`, `--width`, `--budget-steps`, `--target-sol`: how run, batch and bench walk a
task's candidates (the config's `search` section, docs/search.md)."""

from __future__ import annotations

import argparse
from typing import Any


def add_search_flags(parser: argparse.ArgumentParser) -> None:
    search = parser.add_argument_group("search (docs/search.md)")
    search.add_argument(
        "--search",
        choices=("linear", "beam", "evolve"),
        help="linear: one candidate after another (default); beam: refine the best --width "
        "nodes each round; evolve: parents by an upper-confidence rule over the lineage tree",
    )
    search.add_argument(
        "--width",
        type=_positive_int,
        metavar="N",
        help="candidates made and verified at once each round (default: search.width, 3)",
    )
    search.add_argument(
        "--budget-steps",
        dest="limit_steps",
        type=_positive_int,
        default=argparse.SUPPRESS,
        metavar="N",
        help="nodes the search may make in all (the same as --limit-steps)",
    )
    search.add_argument(
        "--target-sol",
        type=_share,
        metavar="F",
        help="stop once a verified kernel reaches this share of speed-of-light, e.g. 0.9",
    )


def search_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config's `search` keys the flags set (empty when none is given)."""
    given = {
        "strategy": getattr(args, "search", None),
        "width": getattr(args, "width", None),
        "target_sol": getattr(args, "target_sol", None),
    }
    return {key: value for key, value in given.items() if value is not None}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number, e.g. 3")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1, e.g. 0.9")
    return value
