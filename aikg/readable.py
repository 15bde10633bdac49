"""Values as a person reads them: no Python reprs (`None`, `{'BLOCK_SIZE': 1024}`) on screen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ABSENT = "-"


def readable(value: Any) -> str:
    """`-` for nothing, `yes`/`no`, 4 significant digits, `KEY=VALUE, ...` for a mapping."""
    if value is None or value == "":
        return ABSENT
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={readable(item)}" for key, item in value.items()) or ABSENT
    if isinstance(value, list | tuple | set):
        return ", ".join(readable(item) for item in value) or ABSENT
    return str(value)


def speedup(value: float | None) -> str:
    return ABSENT if value is None else f"{value:.2f}x"


def dollars(value: float | None) -> str:
    return ABSENT if value is None else f"${value:.4f}"
