"""The bench report's "where the verification time went" section: a row per task, a total."""

from __future__ import annotations

from collections.abc import Sequence

from aikg.breakdown import PARTS, busy_text, total_breakdown
from verifier.result import TimeBreakdown


def _row(name: str, b: TimeBreakdown) -> str:
    cells = " | ".join(f"{getattr(b, field):.1f}" for field, _ in PARTS)
    total = b.wall_s + b.worker_start_s
    return f"| {name} | {cells} | {total:.1f} | {busy_text(b.gpu_busy_fraction)} |"


def time_lines(tasks: Sequence[tuple[str, TimeBreakdown | None]]) -> list[str]:
    """Seconds per phase for each task's verifications (all its steps), then the total;
    nothing when no task recorded a breakdown."""
    measured = [(name, b) for name, b in tasks if b is not None]
    total = total_breakdown(b for _, b in measured)
    if total is None:
        return []
    header = " | ".join(label for _, label in PARTS)
    lines = [
        "## Where the verification time went",
        "",
        'Seconds per phase, all of a task\'s steps together (docs/verifier.md, "Speed"). '
        "GPU busy: kernel and copy time over the verification's wall time outside timing "
        "and device waits (other verifications using the device).",
        "",
        f"| task | {header} | total s | GPU busy |",
        "|---" * (len(PARTS) + 3) + "|",
    ]
    lines += [_row(name, b) for name, b in measured]
    lines += [_row("**all tasks**", total), ""]
    return lines
