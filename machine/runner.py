"""Drives one task through the Conductor's state graph, recording every step.

Each state's work starts in its `on_enter_*` callback and ends by appending its result
event and firing the next trigger (the machine is queued, so this never recurses).
Resume is the same code: fold the stream, put the machine in the folded state, redo the
state that was in flight.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from transitions.extensions.asyncio import AsyncMachine

from agents.llm.analyst import analyse_failure_with
from agents.llm.client import ChatBackend, LLMUnavailable
from agents.llm.prompts import PromptLibrary
from agents.replay import ReplayProvider
from agents.types import AgentError, AgentRequest, Provider
from machine import events as ev
from machine.agent_factory import AgentConfigError, AgentContext, chat_backend, make_provider
from machine.agent_request import attempt_summary, task_request
from machine.conductor import Decision, Rules, decide, has_steps_left, is_verified
from machine.graph import STATES, TRANSITIONS
from machine.interrupted import LLM_OUTAGE, Interrupted
from machine.knowledge_source import knowledge_for
from machine.launch import TaskLaunch
from machine.llm_budget import task_ledger
from machine.llm_wiring import EventSink, RecordedCall, calls_in_flight, replay_recording
from machine.occupancy import publishing_occupancy
from machine.ray_verification import verification_session
from machine.recorder import Recorder, decode_stored
from machine.repeats import repeated_step
from machine.search.engine import drive_search
from machine.spec import TaskSpec, TaskSpecError
from machine.state import StepAttempt, TaskState, fold
from machine.verify_step import verify_on_device
from store import DatabaseLocked, EventStore, resolve_db_path

if TYPE_CHECKING:
    from devicepool import DevicePool
    from machine.config import Config
    from verifier import Verifier
    from verifier.result import VerifyResult


class TaskRun:
    """The FSM model of one task run. `self.state` is the machine's state name."""

    state: str

    def __init__(
        self,
        spec: TaskSpec,
        config: Config,
        device_pool: DevicePool,
        recorder: Recorder,
        verifier: Verifier,
        designer: Provider,
        coder: Provider,
        analyst: ChatBackend | None = None,
        prompts: PromptLibrary | None = None,
    ) -> None:
        self.spec = spec
        self.config = config
        self.device_pool = device_pool
        self.recorder = recorder
        self.verifier = verifier
        self.designer = designer
        self.coder = coder
        self.analyst = analyst
        self.prompts = prompts or PromptLibrary()
        conductor = config.conductor
        self.rules = Rules(conductor.max_same_failures, conductor.profile_patience)
        self.resumed_decision: Decision | None = None  # set when resuming right after one
        self.outage: LLMUnavailable | None = None  # the LLM endpoint did not answer: stop here

    @property
    def folded(self) -> TaskState:
        return self.recorder.state

    # --- guards ---------------------------------------------------------------------------

    def has_steps_left(self) -> bool:
        return has_steps_left(self.folded)

    def is_verified(self) -> bool:
        return is_verified(self.folded)

    # --- states ---------------------------------------------------------------------------

    async def on_enter_designing(self) -> None:
        await self._begin_step("design")
        try:
            design = await self.designer.design(self._request())
        except LLMUnavailable as exc:
            self.outage = exc  # no trigger: the machine stops in this state, to be redone
            return
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
        except LLMUnavailable as exc:
            self.outage = exc
            return
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
        step = self.folded.step
        attempt = self.folded.last_attempt
        assert attempt is not None and attempt.code is not None
        earlier = repeated_step(self.folded)
        if earlier is not None:  # the same code is never verified twice
            await self.recorder.append(ev.VerifyRepeated(step, earlier))
            await self.trigger("checked")
            return
        await verify_on_device(self, step, attempt.code)
        await self.trigger("checked")

    async def on_enter_deciding(self) -> None:
        decision = self.resumed_decision
        self.resumed_decision = None
        if decision is None:
            try:
                decision, by = await self._decide()
            except LLMUnavailable as exc:
                self.outage = exc
                return
            await self.recorder.append(
                ev.ConductorDecided(self.folded.step, decision.action, decision.reason, by)
            )
        if decision.action in ("finish", "stop"):
            await self._finish(decision)
            await self.trigger(decision.action)
        elif not await self.trigger(decision.action):
            await self._finish(Decision("stop", "no steps left", "limit_reached"))
            await self.trigger("stop")

    # --- helpers --------------------------------------------------------------------------

    async def _decide(self) -> tuple[Decision, str]:
        """The rules decide; with LLM analysis on, an LLM picks how to repair a failure."""
        decision = decide(self.folded, self.rules)
        if self.analyst is None or decision.action not in ("fix_code", "fix_design"):
            return decision, "rules"
        action, reason = await analyse_failure_with(self.analyst, self.prompts, self._request())
        return Decision(action, reason), "llm"

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
        spec, state = self.spec, self.folded
        last = state.last_attempt
        with_code = [a for a in state.attempts if a.code is not None]
        feedback = last.feedback if last else None
        if last is not None and last.repeat_of is not None and last.result is not None:
            feedback = {**(feedback or {}), "message": repeat_message(last.repeat_of, last.result)}
        return task_request(
            spec,
            state,
            state.step,
            previous_code=with_code[-1].code if with_code else None,
            feedback=feedback,
            advice=state.decisions[-1].reason if state.decisions else None,
            history=tuple(attempt_summary(a, attempt_message(a)) for a in state.attempts),
        )


def repeat_message(repeat_of: int, result: VerifyResult) -> str:
    """What the agent is told of a candidate that repeats step `repeat_of`'s code."""
    verdict = "it passed" if result.passed else f"it failed: {result.message}"
    return (
        f"this candidate is the same code as step {repeat_of}'s, so it was not verified "
        f"again ({verdict}); write a different kernel"
    )


def attempt_message(attempt: StepAttempt) -> str:
    """What the agent's history says of a step."""
    if attempt.result is None:
        return attempt.missing.summary if attempt.missing else ""
    if attempt.repeat_of is not None:
        return repeat_message(attempt.repeat_of, attempt.result)
    return attempt.result.message


def check_api_keys(config: Config) -> None:
    """Every key variable an LLM role names is set: fail before anything is spent."""
    for role in ("designer", "coder", "conductor"):
        settings = config.agents.role(role)
        if role == "conductor" and not config.conductor.llm_analysis:
            continue
        key_env = settings.api_key_env
        if settings.provider == "openai" and key_env and not os.environ.get(key_env):
            raise AgentConfigError(
                f"{role}: environment variable {settings.api_key_env} is not set; "
                f"export {settings.api_key_env}=<your key> or pass --llm-api-key-env VAR"
            )


async def run_task(
    launch: TaskLaunch, providers: dict[str, Provider] | None = None, verifier: Any = None
) -> TaskState:
    """Create or resume the launched task's stream and run it to `task.finished`.

    `providers` ({"designer": ..., "coder": ...}) replaces the config's agents; `verifier`
    (anything with `async verify(job) -> VerifyResult`) replaces the configured one.
    """
    check_api_keys(launch.config)
    busy_timeout_s = launch.config.store.busy_timeout_s
    store = await EventStore.open(resolve_db_path(launch.config.db), busy_timeout_s=busy_timeout_s)
    context: AgentContext | None = None
    try:
        events = [decode_stored(s) for s in await store.read_stream(launch.spec.task_id)]
        state = fold(enumerate(events, start=1))
        if state.spec is not None:
            _check_same_spec(launch.spec, state.spec)
            if state.finished is not None:
                return state
        recorder = Recorder(store, launch.spec.task_id, state)
        for observer in launch.observers:
            recorder.subscribe(observer)
        context = await _agent_context(launch, store, recorder, calls_in_flight(events))
        roles = launch.config.agents
        chosen = providers or {}
        designer = chosen.get("designer") or make_provider("designer", roles.designer, context)
        coder = chosen.get("coder") or make_provider("coder", roles.coder, context)
        analyst = None
        if launch.config.conductor.llm_analysis:
            analyst = chat_backend(roles.conductor, context)
        resuming = state.spec is not None
        outage: LLMUnavailable | None = None
        if not resuming:
            await recorder.append(launch.created_event())
            if launch.reference is not None:  # written from prose (machine/prose.py)
                await recorder.append(launch.reference)
        try:
            async with (
                verification_session(launch.config, roles.secret_env_names()) as shared,
                publishing_occupancy(launch.device_pool, store.path, busy_timeout_s),
            ):
                run = TaskRun(
                    launch.spec,
                    launch.config,
                    launch.device_pool,
                    recorder,
                    verifier or shared,
                    designer,
                    coder,
                    analyst,
                    context.prompts,
                )
                await drive(run, resuming)
                outage = run.outage
        except asyncio.CancelledError:
            if launch.interrupted_by is None:
                raise
        except DatabaseLocked as exc:  # appends are atomic: the stream ends at its last event
            launch.interrupted_by = exc.interruption
            raise Interrupted(exc.interruption) from exc
        if launch.interrupted_by is not None:
            state = recorder.state
            await recorder.append(
                ev.TaskInterrupted(launch.interrupted_by, state.status, state.step)
            )
            raise Interrupted(launch.interrupted_by)
        if outage is not None:  # the step in flight is redone on resume
            launch.interrupted_by = LLM_OUTAGE  # as a signal would: `aikg batch` exits 3
            state = recorder.state
            await recorder.append(
                ev.TaskInterrupted(LLM_OUTAGE, state.status, state.step, str(outage))
            )
            raise Interrupted(LLM_OUTAGE, f"because {outage} (resume once it answers again)")
        return recorder.state
    finally:
        if context is not None:
            await context.close()
        await store.close()


async def _agent_context(
    launch: TaskLaunch, store: EventStore, recorder: Recorder, pending: list[RecordedCall]
) -> AgentContext:
    prompts = PromptLibrary(launch.config.prompt_dir)
    sink = EventSink(recorder, lambda: recorder.state.step)
    replay = None
    uses_replay = any(
        r.provider == "replay" for r in (launch.config.agents.designer, launch.config.agents.coder)
    )
    if uses_replay:
        source = launch.config.replay_from
        if not source:
            raise AgentConfigError("--llm replay needs --from TASK_ID (a recorded task)")
        recorded = [decode_stored(s) for s in await store.read_stream(source)]
        if not recorded:
            raise AgentConfigError(f"--from {source}: no such task in the event log (see aikg ls)")
    agents = launch.config.agents
    knowledge = None
    if any(agents.role(r).provider != "builtin" for r in ("designer", "coder")):
        seen_by = launch.config.replay_from if uses_replay else None  # a replay sees as T saw
        knowledge = await knowledge_for(store, agents.knowledge, launch.spec.task_id, seen_by)
    if uses_replay:
        replay = ReplayProvider(replay_recording(recorded), prompts, sink, knowledge)
    own = task_ledger(agents.budget, recorder.state)
    return AgentContext(
        sink=sink,
        prompts=prompts,
        pending=pending,
        replay=replay,
        secret_env_names=tuple(agents.secret_env_names()),
        sandbox=launch.config.verifier.sandbox,
        ledgers=tuple(ledger for ledger in (own, *launch.ledgers) if ledger is not None),
        knowledge=knowledge,
    )


async def drive(run: TaskRun, resuming: bool = False) -> None:
    """Put the machine in the folded state and run until it finishes (or is interrupted).

    `resuming`: the stream was written by an earlier process; its in-flight state is redone.
    """
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
    if resuming:
        if state.pending_decision is not None:
            last = state.pending_decision
            run.resumed_decision = Decision(last.action, last.reason)
        if state.held_device is not None:  # the process died holding it
            await recorder.append(ev.DeviceReleased(state.step, state.held_device, 0.0))
        await recorder.append(ev.TaskResumed(initial, state.step, initial))
    if run.config.search.strategy != "linear":  # beam or evolve: docs/search.md
        await drive_search(run)
        return
    if initial == "created":
        await run.trigger("start")
    else:
        await getattr(run, f"on_enter_{initial}")()  # redo the state that was in flight


def _check_same_spec(mine: TaskSpec, recorded: TaskSpec) -> None:
    differ = mine.differences(recorded)
    if differ:
        raise TaskSpecError(
            f"task {mine.task_id!r} already exists with a different {', '.join(differ)}: "
            "choose another --task-id"
        )
