"""Drives a task as a search (`search.strategy` beam or evolve, docs/search.md).

Rounds: the strategy plans up to `width` children from the tree of finished nodes; each
child is recorded (`node.created`, `step.started`), then all of them are generated at once,
then verified side by side on the device pool (machine/search/side_by_side.py: the nodes share
the task's device lease; the verifier keeps timing exclusive per device).
Results are recorded in node order, so the log of a round is the same however the calls
interleave, and a replay re-drives the identical tree. Resume finishes the open nodes of
the last round (no node made twice, completed LLM calls served from the log) and goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Protocol

from agents.llm.client import LLMUnavailable
from agents.types import (
    AgentError,
    AgentRequest,
    Candidate,
    Inspiration,
)
from machine import events as ev
from machine.agent_request import attempt_summary, task_request
from machine.conductor import FATAL_AGENT_ERRORS
from machine.llm_wiring import CALL_STEP
from machine.repeats import repeated_step
from machine.search.side_by_side import verify_side_by_side
from machine.search.stopping import steps_used, stop_reason
from machine.search.strategies import Plan, plan_round
from machine.search.tree import Node, lineage, node_id_of, search_tree
from machine.speed_of_light import speed_of_light
from machine.state import StepAttempt, TaskState
from machine.verify_step import VerifyingRun

if TYPE_CHECKING:
    from agents.types import Provider


class SearchRun(VerifyingRun, Protocol):
    """What the search reads and sets of the task run that hands it over (the runner's
    `TaskRun`): the engine depends on this, not on the runner, which imports the engine."""

    designer: Provider
    coder: Provider
    outage: LLMUnavailable | None  # set when the LLM endpoint is out: the run stops there


class SearchDriver:
    def __init__(self, run: SearchRun) -> None:
        self.run = run
        self.settings = run.config.search

    @property
    def state(self) -> TaskState:
        return self.run.recorder.state

    async def drive(self) -> None:
        if not await self._designed():
            return
        while True:
            nodes = search_tree(self.state)
            open_nodes = [n for n in nodes if not n.done]
            if open_nodes:
                if not await self._complete(open_nodes):
                    return  # the LLM endpoint is out: the open nodes are redone on resume
                continue
            stop = self._stop(nodes)
            if stop is None:
                steps_left = self.run.spec.limit_steps - steps_used(nodes)
                plans = plan_round(self.settings.strategy, nodes, self.settings.width, steps_left)
                if plans:
                    await self._create(plans, nodes)
                    continue
                stop = ("verified", "every alternative tried") if self.state.best else None
                stop = stop or ("limit_reached", "no node left to refine")
            await self._finish(*stop)
            return

    # --- the design, once --------------------------------------------------------------------

    async def _designed(self) -> bool:
        if self.state.design is not None:
            return True
        if self.state.step == 0:
            await self.run.recorder.append(ev.StepStarted(1, "design", "first step"))
        designer = self.run.designer
        try:
            design = await designer.design(self._request(None, Plan(None, "design")))
        except LLMUnavailable as exc:
            self.run.outage = exc
            return False
        except AgentError as exc:
            await self.run.recorder.append(_missing(1, "designer", designer.name, exc))
            kind = exc.reason if exc.reason in FATAL_AGENT_ERRORS else "agent_error"
            await self._finish(FATAL_AGENT_ERRORS.get(kind, "agent_error"), str(exc))
            return False
        await self.run.recorder.append(
            ev.DesignProduced(1, design.text, designer.name, dict(design.notes))
        )
        return True

    # --- a round -----------------------------------------------------------------------------

    async def _create(self, plans: list[Plan], nodes: list[Node]) -> None:
        round_ = max((n.round for n in nodes), default=0) + 1
        step = steps_used(nodes)
        for plan in plans:
            step += 1
            parents = [plan.parent.node_id] if plan.parent else []
            parents += [n.node_id for n in plan.inspirations]
            events: list[ev.Event] = [
                ev.NodeCreated(
                    step,
                    node_id_of(step),
                    parents,
                    self.run.coder.name,
                    plan.idea,
                    plan.alternative,
                    round_,
                )
            ]
            if step != self.state.step:  # step 1 was started by the design
                events.append(ev.StepStarted(step, "code", plan.idea))
            await self.run.recorder.append(*events)

    async def _complete(self, open_nodes: list[Node]) -> bool:
        coding = [n for n in open_nodes if n.status == "coding"]
        replies = await asyncio.gather(*(self._generate(n) for n in coding))
        outage = next((r for r in replies if isinstance(r, LLMUnavailable)), None)
        agent = self.run.coder.name
        produced: list[ev.Event] = [
            _missing(node.step, "coder", agent, reply)
            if isinstance(reply, AgentError)
            else ev.CodeProduced(node.step, reply.code, agent, dict(reply.notes))
            for node, reply in zip(coding, replies, strict=True)
            if not isinstance(reply, LLMUnavailable)
        ]
        # one append: a crash leaves every reply of the round recorded, or none (and then
        # the completed calls are after the last result, so resume serves them from the log)
        if produced:
            await self.run.recorder.append(*produced)
        if outage is not None:
            self.run.outage = outage
            return False
        fresh = []
        for node in search_tree(self.state):
            if node.status != "verifying":
                continue
            earlier = repeated_step(self.state, node.step)
            if earlier is not None:  # the same code is never verified twice
                await self.run.recorder.append(ev.VerifyRepeated(node.step, earlier))
            else:
                fresh.append(node)
        await verify_side_by_side(self.run, [(n.step, n.attempt.code or "") for n in fresh])
        return True

    async def _generate(self, node: Node) -> Candidate | AgentError:
        nodes = search_tree(self.state)
        by_id = {n.node_id: n for n in nodes}
        created = next(n for n in self.state.nodes if n.step == node.step)
        plan = Plan(
            by_id.get(node.parent) if node.parent else None,
            node.idea,
            node.alternative,
            tuple(by_id[i] for i in created.parents[1:] if i in by_id),
        )
        CALL_STEP.set(node.step)  # this node's own asyncio task: its LLM events name its step
        try:
            return await self.run.coder.code(self._request(node, plan))
        except (AgentError, LLMUnavailable) as exc:
            return exc

    # --- when to stop --------------------------------------------------------------------------

    def _stop(self, nodes: list[Node]) -> tuple[str, str] | None:
        best, spec = self.state.best, self.run.spec
        best_step = best.step if best else None
        target = self.settings.target_sol
        return stop_reason(nodes, best_step, spec.task_type, target, spec.limit_steps)

    async def _finish(self, reason: str, message: str) -> None:
        best = self.state.best
        await self.run.recorder.append(
            ev.TaskFinished(
                success=best is not None and reason == "verified",
                reason=reason,
                message=message,
                steps=self.state.step,
                best_step=best.step if best else None,
            )
        )

    # --- what an agent is shown ------------------------------------------------------------------

    def _request(self, node: Node | None, plan: Plan) -> AgentRequest:
        spec, state = self.run.spec, self.state
        parent = plan.parent
        path = lineage(search_tree(state), parent)
        return task_request(
            spec,
            state,
            node.step if node else 1,
            previous_code=parent.attempt.code if parent else None,
            feedback=parent.attempt.feedback if parent else None,
            advice=plan.idea if node else None,
            history=tuple(attempt_summary(n.attempt, _said_of(n.attempt)) for n in path),
            node_id=node.node_id if node else None,
            parent_id=parent.node_id if parent else None,
            inspirations=tuple(_inspiration(n) for n in plan.inspirations),
            speed_of_light=speed_of_light(parent.attempt.timings) if parent else None,
            breakdown=_breakdown(parent.attempt) if parent else None,
            alternative=plan.alternative,
        )


def _missing(step: int, role: str, agent: str, exc: AgentError) -> ev.CodeMissing:
    return ev.CodeMissing(step, agent, exc.reason, str(exc), role, list(getattr(exc, "ops", [])))


def _said_of(attempt: StepAttempt) -> str:
    return attempt.missing.summary if attempt.missing else attempt.message


def _inspiration(node: Node) -> Inspiration:
    if node.status == "verified":
        parts = (
            [f"{node.speedup('compile'):.2f}x vs torch.compile"] if node.speedup("compile") else []
        )
        parts += [f"{node.sol:.2f} of speed-of-light"] if node.sol else []
        summary = ", ".join(parts) or "no speedups measured"
    else:
        missing = node.attempt.missing
        summary = f"{node.stage}: {missing.summary if missing else node.attempt.message}"
    return Inspiration(
        node.node_id, node.attempt.code or "", node.status == "verified", summary, node.time_ms
    )


def _breakdown(attempt: StepAttempt) -> dict[str, float] | None:
    if attempt.breakdown is None:
        return None
    fields = dataclasses.asdict(attempt.breakdown)
    return {k: float(v) for k, v in fields.items() if isinstance(v, int | float)}


async def drive_search(run: SearchRun) -> None:
    await SearchDriver(run).drive()
