"""Drives one task through the Conductor's state graph, recording every step.

Each state's work starts in its `on_enter_*` callback and ends by appending its result
event and firing the next trigger (the machine is queued, so this never recurses).
Resume is the same code: fold the stream, put the machine in the folded state, redo the
state that was in flight.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from transitions.extensions.asyncio import AsyncMachine

from agents.types import AgentError, AgentRequest, Attempt, Provider, Target
from machine import events as ev
from machine.agent_factory import make_provider
from machine.conductor import STATES, TRANSITIONS, Decision, Rules, decide
from machine.recorder import Recorder, load_state
from machine.spec import TaskSpecError
from machine.state import TaskState
from machine.task import Interrupted
from machine.verification import job_device, verifier_session
from store import EventStore, resolve_db_path
from verifier.result import VerifyJob

if TYPE_CHECKING:
    from machine.task import RunSpec, Task
    from verifier import Verifier


class TaskRun:
    """The FSM model of one task run. `self.state` is the machine's state name."""

    state: str

    def __init__(
        self,
        task: RunSpec,
        recorder: Recorder,
        verifier: Verifier,
        designer: Provider,
        coder: Provider,
    ) -> None:
        self.task = task
        self.recorder = recorder
        self.verifier = verifier
        self.designer = designer
        self.coder = coder
        conductor = task.config.conductor
        self.rules = Rules(conductor.max_same_failures, conductor.profile_patience)
        self.resumed_decision: Decision | None = None  # set when resuming right after one

    @property
    def folded(self) -> TaskState:
        return self.recorder.state

    # --- guards ---------------------------------------------------------------------------

    def has_steps_left(self) -> bool:
        return self.folded.step < self.task.limit_steps

    def is_verified(self) -> bool:
        return self.folded.best is not None

    # --- states ---------------------------------------------------------------------------

    async def on_enter_designing(self) -> None:
        await self._begin_step("design")
        try:
            design = await self.designer.design(self._request())
        except AgentError as exc:
            await self._record_missing("designer", self.designer, exc)
            await self.trigger("design_missing")
            return
        await self.recorder.append(
            ev.DesignProduced(self.folded.step, design.text, self.designer.name, dict(design.notes))
        )
        await self.trigger("designed")

    async def on_enter_coding(self) -> None:
        await self._begin_step("code")
        try:
            candidate = await self.coder.code(self._request())
        except AgentError as exc:
            await self._record_missing("coder", self.coder, exc)
            await self.trigger("code_missing")
            return
        await self.recorder.append(
            ev.CodeProduced(
                self.folded.step, candidate.code, self.coder.name, dict(candidate.notes)
            )
        )
        await self.trigger("coded")

    async def on_enter_verifying(self) -> None:
        task, step = self.task, self.folded.step
        attempt = self.folded.last_attempt
        assert attempt is not None and attempt.code is not None
        job = VerifyJob(
            reference_source=task.task_desc,
            candidate_source=attempt.code,
            framework=task.framework,
            task_type=task.task_type,
            trials=task.config.verifier.trials,
            timeout_s=task.config.verifier.timeout_s,
            seed=step,
            small_shapes=task.backend == "cpu" and task.config.verifier.small_shapes_on_cpu,
            tolerances=dict(task.config.verifier.tolerances),
        )
        async with task.device_pool.lease(task.task_id, task.backend) as device:
            since = time.monotonic()
            try:
                await self.recorder.append(ev.DeviceLeased(step, device))
                result = await self.verifier.verify(replace(job, device=job_device(device)))
                await self.recorder.append(ev.VerifyFinished(step, device, result.to_dict()))
            finally:
                held = round(time.monotonic() - since, 3)
                await self.recorder.append(ev.DeviceReleased(step, device, held))
        await self.trigger("checked")

    async def on_enter_deciding(self) -> None:
        decision = self.resumed_decision
        self.resumed_decision = None
        if decision is None:
            decision = decide(self.folded, self.rules)
            await self.recorder.append(
                ev.ConductorDecided(self.folded.step, decision.action, decision.reason)
            )
        if decision.action in ("finish", "stop"):
            await self._finish(decision)
            await self.trigger(decision.action)
        elif not await self.trigger(decision.action):
            await self._finish(Decision("stop", "no steps left", "limit_reached"))
            await self.trigger("stop")

    # --- helpers --------------------------------------------------------------------------

    async def _begin_step(self, action: str) -> None:
        """Start a new step unless this state continues one (design then code)."""
        state = self.folded
        if state.status == "created":
            await self.recorder.append(ev.StepStarted(1, action, "first step"))
        elif state.status == "deciding" and state.decisions:
            reason = state.decisions[-1].reason
            await self.recorder.append(ev.StepStarted(state.step + 1, action, reason))

    async def _record_missing(self, role: str, provider: Provider, exc: AgentError) -> None:
        await self.recorder.append(
            ev.CodeMissing(
                step=self.folded.step,
                agent=provider.name,
                reason=exc.reason,
                message=str(exc),
                role=role,
                ops=list(getattr(exc, "ops", [])),
            )
        )

    async def _finish(self, decision: Decision) -> None:
        state = self.folded
        best = state.best
        reason = decision.finish_reason or ("verified" if best else "limit_reached")
        await self.recorder.append(
            ev.TaskFinished(
                success=best is not None and reason == "verified",
                reason=reason,
                message=decision.reason,
                steps=state.step,
                best_step=best.step if best else None,
            )
        )

    def _request(self) -> AgentRequest:
        task, state = self.task, self.folded
        last = state.last_attempt
        history = tuple(
            Attempt(
                step=a.step,
                passed=a.passed,
                stage=(a.result or {}).get("stage") if a.result else "no_code",
                message=(a.result or {}).get("message", "") if a.result else (a.missing or ""),
                candidate_time_ms=a.time_ms,
                launch_config=a.notes.get("launch_config"),
            )
            for a in state.attempts
        )
        return AgentRequest(
            op_name=task.op_name,
            reference_source=task.task_desc,
            framework=task.framework,
            target=Target(task.backend, task.arch, task.impl_type),
            task_type=task.task_type,
            step=state.step,
            design=state.design,
            previous_code=last.code if last else None,
            feedback=last.result if last else None,
            advice=state.decisions[-1].reason if state.decisions else None,
            history=history,
        )


async def run_task(task: Task, providers: dict[str, Provider] | None = None) -> TaskState:
    """Create or resume `task`'s stream and run it to `task.finished`.

    `providers` ({"designer": ..., "coder": ...}) replaces the config's agents.
    """
    store = await EventStore.open(resolve_db_path(task.config.db))
    try:
        state = await load_state(store, task.task_id)
        if state.spec is not None:
            _check_same_spec(task, state.spec)
            if state.finished is not None:
                return state
        recorder = Recorder(store, task.task_id, state)
        for observer in task._observers:
            recorder.subscribe(observer)
        if state.spec is None:
            await recorder.append(task.created_event())
        roles = task.config.agents
        secrets = [r.api_key_env for r in (roles.designer, roles.coder) if r.api_key_env]
        try:
            async with verifier_session(task.config.verifier.mode, secrets) as verifier:
                chosen = providers or {}
                designer = chosen.get("designer") or make_provider(
                    "designer", roles.designer.model_dump()
                )
                coder = chosen.get("coder") or make_provider("coder", roles.coder.model_dump())
                await drive(TaskRun(task.run_spec(), recorder, verifier, designer, coder))
        except asyncio.CancelledError:
            if task.interrupted_by is None:
                raise
        if task.interrupted_by is not None:
            state = recorder.state
            await recorder.append(ev.TaskInterrupted(task.interrupted_by, state.status, state.step))
            raise Interrupted(task.interrupted_by)
        return recorder.state
    finally:
        await store.close()


async def drive(run: TaskRun) -> None:
    """Put the machine in the folded state and run until it finishes (or is interrupted)."""
    recorder = run.recorder
    state = recorder.state
    initial = state.status if state.status != "new" else "created"
    AsyncMachine(
        model=run,
        states=STATES,
        transitions=TRANSITIONS,
        initial=initial,
        queued=True,
        auto_transitions=False,
        send_event=False,
    )
    if initial == "created":
        await run.trigger("start")
        return
    if state.last_type == ev.ConductorDecided.TYPE:
        last = state.decisions[-1]
        run.resumed_decision = Decision(last.action, last.reason)
    if state.held_device is not None:  # the process died holding it
        await recorder.append(ev.DeviceReleased(state.step, state.held_device, 0.0))
    await recorder.append(ev.TaskResumed(initial, state.step, initial))
    await getattr(run, f"on_enter_{initial}")()  # redo the state that was in flight


def _check_same_spec(task: Task, spec: ev.TaskCreated) -> None:
    mine = task.created_event()
    fields = ("op_name", "task_desc", "backend", "arch", "impl_type", "framework", "task_type")
    differ = [f for f in fields if getattr(mine, f) != getattr(spec, f)]
    if differ:
        raise TaskSpecError(
            f"task {task.task_id!r} already exists with a different {', '.join(differ)}: "
            "choose another --task-id"
        )
