"""What counts as the same candidate: Python tokens, ignoring comments and layout."""

from __future__ import annotations

from machine.repeats import normalised

CODE = """
import torch


def forward(x):
    return x * 2.0  # doubled
"""


def test_comments_blank_lines_and_indent_width_do_not_count() -> None:
    relaid = "# a new comment\nimport torch\n\ndef forward(x):\n  return x*2.0\n"
    assert normalised(relaid) == normalised(CODE)


def test_any_significant_token_counts() -> None:
    assert normalised(CODE.replace("2.0", "2.5")) != normalised(CODE)
    assert normalised(CODE.replace("x * 2.0", "(x * 2.0)")) != normalised(CODE)


def test_source_that_does_not_tokenize_is_compared_exactly() -> None:
    broken = 'x = """never closed\n'
    assert normalised(broken) == broken
    assert normalised(broken + " ") != normalised(broken)
