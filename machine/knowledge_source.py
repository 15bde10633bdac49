"""The verified kernels an LLM prompt may draw on, read from the event log.

Only tasks that finished verified *before* the task at hand was created count, so a resumed
task, or a replay of it, sees the very same kernels and renders the same prompts. Each
such task offers its best step's code, its reference and a one-line summary; which of them a
prompt shows is the agents' choice (agents/llm/knowledge.py: similarity of operations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.llm.knowledge import Knowledge, KnownKernel, load_skills
from agents.llm.settings import KnowledgeSettings
from machine import events as ev
from machine.agent_factory import AgentConfigError
from machine.recorder import decode_stored
from store import EventStore

if TYPE_CHECKING:
    from verifier.result import VerifyResult

_TYPES = (ev.TaskCreated.TYPE, ev.CodeProduced.TYPE, ev.VerifyFinished.TYPE, ev.TaskFinished.TYPE)


async def creation_position(store: EventStore, task_id: str) -> int:
    """Where `task_id`'s `task.created` is in the log; past the end for a task not yet there."""
    first = await store.read_stream(task_id, to_seq=1)
    return first[0].position if first else await store.last_position() + 1


async def verified_kernels(store: EventStore, before_position: int) -> list[KnownKernel]:
    """The best kernel of every task verified below `before_position`, oldest task first."""
    created: dict[str, ev.TaskCreated] = {}
    code: dict[tuple[str, int], str] = {}
    results: dict[tuple[str, int], VerifyResult] = {}
    kernels = []
    for stored in await store.read_types(_TYPES, before_position):
        event = decode_stored(stored)
        if isinstance(event, ev.TaskCreated):
            created[stored.stream] = event
        elif isinstance(event, ev.CodeProduced):
            code[(stored.stream, event.step)] = event.code
        elif isinstance(event, ev.VerifyFinished):
            results[(stored.stream, event.step)] = event.result
        elif isinstance(event, ev.TaskFinished) and event.success and event.best_step:
            key = (stored.stream, event.best_step)
            spec = created.get(stored.stream)
            if spec is not None and key in code:
                summary = _summary(results.get(key))
                kernels.append(
                    KnownKernel(stored.stream, spec.op_name, spec.task_desc, code[key], summary)
                )
    return kernels


def _summary(result: VerifyResult | None) -> str:
    timings = (result.timings if result is not None else None) or {}
    speedup = timings.get("speedup_vs_compile") or timings.get("speedup_vs_eager")
    against = "torch.compile" if timings.get("speedup_vs_compile") else "eager"
    return f"verified, {speedup:.2f}x vs {against}" if speedup else "verified"


async def knowledge_for(
    store: EventStore, settings: KnowledgeSettings, task_id: str, recorded_from: str | None
) -> Knowledge:
    """What the prompts of `task_id` may draw on; a replay (`recorded_from`) sees what the
    recorded task saw."""
    seen_by = recorded_from or task_id
    kernels: list[KnownKernel] = []
    if settings.from_log:
        kernels = await verified_kernels(store, await creation_position(store, seen_by))
    try:
        skills = load_skills(settings.skills_dir) if settings.skills else ()
    except ValueError as err:
        raise AgentConfigError(str(err)) from None
    return Knowledge(
        skills,
        tuple(kernels),
        top_kernels=settings.top_kernels,
        top_skills=settings.top_skills,
        min_similarity=settings.min_similarity,
    )
