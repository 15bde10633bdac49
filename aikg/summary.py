"""Plain, JSON-able views of a folded task, for `--json`, `aikg show` and `aikg ls`."""

from __future__ import annotations

from typing import Any

from aikg.readable import readable
from machine.describe import launch_config_text
from machine.state import TaskState


def status_of(state: TaskState) -> str:
    return state.shown_status


def best_speedups(state: TaskState) -> dict[str, float | None]:
    timings = state.best_timings
    return {
        "speedup_vs_eager": timings.get("speedup_vs_eager"),
        "speedup_vs_compile": timings.get("speedup_vs_compile"),
    }


def summarize(state: TaskState, *, with_code: bool = True) -> dict[str, Any]:
    spec = state.spec
    assert spec is not None
    best = state.best
    out: dict[str, Any] = {
        "task_id": spec.task_id,
        "op_name": spec.op_name,
        "backend": spec.backend,
        "arch": spec.arch,
        "framework": spec.framework,
        "task_type": spec.task_type,
        # the reference: the task file, or written from prose by the formula form or an llm
        "reference": f"prose ({state.reference.written_by})" if state.reference else "task file",
        "status": status_of(state),
        "success": state.success,
        "reason": state.finished.reason if state.finished else None,
        "message": state.finished.message if state.finished else None,
        "steps": state.step,
        "limit_steps": spec.limit_steps,
        "best_step": best.step if best else None,
        "llm_calls": state.llm_calls,
        "tokens": state.tokens,
        "cost_usd": round(state.cost_usd, 6),
        **best_speedups(state),
    }
    if with_code:
        out["best_code"] = best.code if best else None
    return out


def step_lines(state: TaskState) -> list[str]:
    """One line per step (what was produced, what the verifier said), then its decision."""
    lines = []
    for attempt in state.attempts:
        if attempt.missing:
            lines.append(f"step {attempt.step}: no code ({attempt.missing.summary})")
        else:
            verdict = (
                "passed"
                if attempt.passed
                else f"{readable(attempt.stage)}: {readable(attempt.message)}"
            )
            timing = f", {attempt.time_ms:.4g} ms" if attempt.time_ms is not None else ""
            config = attempt.notes.get("launch_config")
            tried = f" [{launch_config_text(config)}]" if config else ""
            lines.append(f"step {attempt.step}: {verdict}{timing}{tried}")
        lines += [
            f"  -> {d.action} ({d.by}): {d.reason}"
            for d in state.decisions
            if d.step == attempt.step
        ]
    return lines
