"""Unified diffs between code versions, coloured for the terminal."""

from __future__ import annotations

import difflib

from rich.text import Text

_STYLES = {"+": "green", "-": "red", "@": "cyan"}


def unified(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    return list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="")
    )


def coloured(lines: list[str]) -> Text:
    """The diff with added lines green, removed red, hunk headers cyan, file names bold."""
    text = Text()
    for line in lines:
        style = "bold" if line.startswith(("+++", "---")) else _STYLES.get(line[:1], "")
        text.append(line + "\n", style=style)
    if not lines:
        text.append("(the two versions are identical)", style="dim")
    return text
