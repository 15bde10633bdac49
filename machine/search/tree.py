"""The search tree of a task, folded from its state: one node per candidate.

A search records `node.created` for each node (its parents, agent, idea); a linear run
records none, and its code steps read as a chain, each the child of the step before.
A node's step produces and verifies its candidate, so results attach through the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from machine.describe import launch_config_text
from machine.speed_of_light import share_of_light, speed_of_light
from machine.state import StepAttempt, TaskState

# Verifier stages by how far a failed candidate got: a wrong value ran, a crash compiled.
_STAGE_PROMISE = {"correctness": 4, "timing-cheat": 4, "runtime": 3, "timeout": 2, "compile": 1}


@dataclass(frozen=True)
class Node:
    node_id: str
    step: int
    parent: str | None
    agent: str
    idea: str
    round: int
    attempt: StepAttempt  # the step's code and result (empty while in flight)
    alternative: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        """verified, failed, no_code, repeat (same code as an earlier node), coding, verifying."""
        attempt = self.attempt
        if attempt.missing:
            return "no_code"
        if attempt.code is None:
            return "coding"
        if attempt.result is None:
            return "verifying"
        if attempt.repeat_of is not None:
            return "repeat"
        return "verified" if attempt.passed else "failed"

    @property
    def listed_alternatives(self) -> list[dict[str, Any]] | None:
        """What its agent listed for its children to try (the built-in agent's launch
        configurations); None from an agent that lists none (an LLM's)."""
        return self.attempt.notes.get("alternatives")

    @property
    def done(self) -> bool:
        return self.status not in ("coding", "verifying")

    @property
    def time_ms(self) -> float | None:
        return self.attempt.time_ms if self.status == "verified" else None

    @property
    def stage(self) -> str:
        """Where a failed node stopped (its missing code's reason, or the verifier stage)."""
        return self.attempt.stage or ""

    @property
    def promise(self) -> int:
        """How far it got: 5 verified, then by the stage a failure stopped at."""
        if self.status == "verified":
            return 5
        if self.status == "failed":
            return _STAGE_PROMISE.get(self.stage, 0)
        return -1

    def speedup(self, baseline: str) -> float | None:
        if self.status != "verified":
            return None
        value = self.attempt.timings.get(f"speedup_vs_{baseline}")
        return float(value) if value is not None else None

    @property
    def sol(self) -> float | None:
        """Its share of the task's speed-of-light (None on the CPU, or when not timed)."""
        if self.status != "verified":
            return None
        return share_of_light(speed_of_light(self.attempt.timings), self.time_ms)


def node_id_of(step: int) -> str:
    return f"n{step}"


def search_tree(state: TaskState) -> list[Node]:
    """Every node of the task in step order."""
    attempts = {a.step: a for a in state.attempts}
    if state.nodes:
        return [
            Node(
                node_id=n.node_id,
                step=n.step,
                parent=n.parents[0] if n.parents else None,
                agent=n.agent,
                idea=_idea(n.idea, attempts.get(n.step)),
                round=n.round,
                attempt=attempts.get(n.step) or StepAttempt(step=n.step),
                alternative=n.alternative,
            )
            for n in state.nodes
        ]
    return _chain(state)


def _chain(state: TaskState) -> list[Node]:
    """A linear run's steps as nodes, each the child of the step before."""
    agent = _coder(state)
    reasons = {d.step + 1: d.reason for d in state.decisions}
    nodes: list[Node] = []
    for attempt in state.attempts:
        nodes.append(
            Node(
                node_id=node_id_of(attempt.step),
                step=attempt.step,
                parent=nodes[-1].node_id if nodes else None,
                agent=agent,
                idea=_idea(_planned(attempt, reasons.get(attempt.step)), attempt),
                round=attempt.step,
                attempt=attempt,
            )
        )
    return nodes


def _idea(planned: str, attempt: StepAttempt | None) -> str:
    """The node's idea: the agent's own one-line idea (an LLM's), else what was planned."""
    notes = attempt.notes if attempt is not None else {}
    return str(notes.get("idea") or planned)


def _planned(attempt: StepAttempt, reason: str | None) -> str:
    config = attempt.notes.get("launch_config")
    return launch_config_text(config) if config else reason or "first candidate"


def _coder(state: TaskState) -> str:
    config = state.spec.config if state.spec else {}
    coder = ((config.get("agents") or {}).get("coder")) or {}
    return str(coder.get("provider") or "")


def find_node(nodes: list[Node], wanted: str) -> Node | None:
    """The node named `wanted`: its id (n3) or its step number (3)."""
    key = wanted if wanted.startswith("n") else f"n{wanted}"
    return next((n for n in nodes if n.node_id == key), None)


def lineage(nodes: list[Node], node: Node | None) -> list[Node]:
    """`node` and its ancestors, root first."""
    by_id = {n.node_id: n for n in nodes}
    path: list[Node] = []
    while node is not None:
        path.append(node)
        node = by_id.get(node.parent) if node.parent else None
    return path[::-1]


def best_path(nodes: list[Node], best_step: int | None) -> set[str]:
    """Ids on the path from the root to the best node."""
    best = next((n for n in nodes if n.step == best_step), None)
    return {n.node_id for n in lineage(nodes, best)}


def candidate_rows(nodes: list[Node]) -> list[dict[str, Any]]:
    """`aikg show --json`'s `candidates`."""
    return [
        {
            "id": n.node_id,
            "parent": n.parent,
            "step": n.step,
            "status": n.status,
            "time_ms": n.time_ms,
            "speedup_vs_eager": n.speedup("eager"),
            "speedup_vs_compile": n.speedup("compile"),
            "sol": n.sol,
            "agent": n.agent,
            "idea": n.idea,
        }
        for n in nodes
    ]


def node_line(node: Node, on_best_path: bool) -> str:
    """`n4 * verified 0.98 ms, 1.40x eager, 0.81 of SOL  BLOCK_SIZE=4096 (builtin)`."""
    status = node.status
    if status in ("failed", "no_code"):
        status = f"{status} ({node.stage})"
    figures = [f"{node.time_ms:.4g} ms"] if node.time_ms is not None else []
    for baseline in ("eager", "compile"):
        value = node.speedup(baseline)
        figures += [f"{value:.2f}x {baseline}"] if value is not None else []
    figures += [f"{node.sol:.2f} of SOL"] if node.sol is not None else []
    shown = ", ".join([status, *figures])
    mark = " *" if on_best_path else ""
    return f"{node.node_id}{mark} {shown}  {node.idea} ({node.agent})"
