"""Plain-text formatting of folded task state: list rows, durations, money, tokens."""

from __future__ import annotations

from dataclasses import dataclass

from machine.state import TaskState
from tui.model import TaskRecord

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"),
    ("op", "op"),
    ("target", "backend/arch"),
    ("state", "state"),
    ("step", "step"),
    ("verified", "verified"),
    ("speedup", "best speedup"),
    ("usage", "tokens · cost"),
    ("elapsed", "elapsed"),
)


def duration(seconds: float) -> str:
    """Whole seconds, minutes or hours: `42s`, `3m05s`, `2h07m`."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def speedup(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


@dataclass(frozen=True)
class Row:
    """One task-list row: display cells plus the sort key of each column."""

    key: str
    cells: tuple[str, ...]
    sort_keys: tuple[object, ...]

    def matches(self, needle: str) -> bool:
        needle = needle.lower()
        return not needle or any(needle in cell.lower() for cell in self.cells)


def task_row(record: TaskRecord, now: float) -> Row:
    state = record.state
    spec = state.spec
    assert spec is not None
    best = speedups_of(record)
    end = record.end_ts()
    elapsed = (end if end is not None else max(now, record.last_ts)) - record.first_ts
    status = status_of(state)
    verified = state.best is not None
    cells = (
        spec.task_id,
        spec.op_name,
        f"{spec.backend}/{spec.arch}",
        status,
        f"{state.step}/{spec.limit_steps}",
        "✓" if verified else "·",
        speedup(best),
        f"{tokens(state.tokens)} · ${state.cost_usd:.4f}",
        duration(elapsed),
    )
    sort_keys = (
        spec.task_id,
        spec.op_name,
        cells[2],
        status,
        state.step,
        verified,
        -1.0 if best is None else best,
        state.tokens,
        elapsed,
    )
    return Row(record.stream, cells, sort_keys)


def status_of(state: TaskState) -> str:
    """As `aikg ls` says it."""
    return state.shown_status


def speedups_of(record: TaskRecord) -> float | None:
    """The best attempt's speedup over eager, when it was timed."""
    value = record.state.best_timings.get("speedup_vs_eager")
    return None if value is None else float(value)
