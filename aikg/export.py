"""Writing a task's best kernel to a file."""

from __future__ import annotations

from pathlib import Path

from machine.state import TaskState


def export_kernel(state: TaskState, path: str | Path) -> Path | None:
    """Write the best verified kernel to `path`; None when there is none."""
    best = state.best
    if best is None or best.code is None:
        return None
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    spec = state.spec
    header = (
        f"# aikg kernel for {spec.op_name} (task {spec.task_id}, step {best.step}, "
        f"{spec.backend}/{spec.arch})\n"
        if spec
        else ""
    )
    target.write_text(header + best.code)
    return target
