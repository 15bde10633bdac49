"""Values as a person reads them: no Python reprs (`None`, `True`) on screen."""

from __future__ import annotations

from typing import Any

ABSENT = "-"


def readable(value: Any) -> str:
    """`-` for nothing, `yes`/`no` for a flag, 4 significant digits for a float."""
    if value is None or value == "":
        return ABSENT
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def speedup(value: float | None) -> str:
    return ABSENT if value is None else f"{value:.2f}x"


def dollars(value: float | None) -> str:
    return ABSENT if value is None else f"${value:.4f}"
