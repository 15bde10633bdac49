"""When a search ends, and why: a pure function of its finished nodes (docs/search.md)."""

from __future__ import annotations

from machine.conductor import FATAL_AGENT_ERRORS
from machine.search.tree import Node, node_id_of


def steps_used(nodes: list[Node]) -> int:
    return max((n.step for n in nodes), default=0)


def stop_reason(
    nodes: list[Node],
    best_step: int | None,
    task_type: str,
    target_sol: float | None,
    limit_steps: int,
) -> tuple[str, str] | None:
    """(`task.finished` reason, message), or None while the search goes on."""
    kept = f"keeping {node_id_of(best_step)}" if best_step is not None else ""
    for node in nodes:
        if node.status == "no_code" and node.stage in FATAL_AGENT_ERRORS:
            if node.stage == "budget_exhausted" and kept:
                return "verified", f"LLM budget spent; {kept}"
            missing = node.attempt.missing
            return FATAL_AGENT_ERRORS[node.stage], missing.summary if missing else node.stage
        result = node.attempt.result
        if result is not None and result.reference_error:
            return "reference_error", f"the task file fails on its own: {result.message}"
    if best_step is not None and task_type != "profile":
        return "verified", f"{node_id_of(best_step)} verified"
    reached = [n for n in nodes if target_sol and n.sol is not None and n.sol >= target_sol]
    if reached:
        node = reached[0]
        return "verified", f"{node.node_id} reached {node.sol:.2f} of speed-of-light"
    if steps_used(nodes) >= limit_steps:
        if kept:
            return "verified", f"step budget spent; {kept}"
        return "limit_reached", f"no kernel verified in {limit_steps} steps"
    return None
