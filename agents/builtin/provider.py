"""The builtin, LLM-free provider: trace, lower, render, and search launch configs.

`plan_design` and `write_code` do the work in the calling thread; they load and trace the
reference, which is user code, so the aikg process runs them in the built-in agent's own
confined process (`machine/builtin_isolation.py`), never in itself. Each reference is
traced and lowered once: the last few stay lowered for the design, code and search requests
that follow (`LOWERED_KEPT`).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from agents.builtin.errors import LLM_HINT
from agents.builtin.reference import trace_reference
from agents.builtin.search import choose_config, configs_for, search_space
from agents.builtin.stages import Lowered, lower_graph
from agents.types import AgentRequest, Candidate, Design, Unsupported

T = TypeVar("T")
# torch's tracing modes are process-wide state: trace one reference at a time
_TRACE_LOCK = threading.Lock()
# the references lowered last, by (source, framework): a step's design and code, and the
# search's siblings, share one trace and lowering (rendering leaves a Lowered as it was)
LOWERED_KEPT = 4
_LOWERED: OrderedDict[tuple[str, str], Lowered] = OrderedDict()


def _lower(request: AgentRequest) -> Lowered:
    if request.target.impl_type != "triton":
        raise Unsupported(
            [f"<{request.target.impl_type}>"],
            f"the builtin agent writes Triton only, not {request.target.impl_type}; " + LLM_HINT,
        )
    key = (request.reference_source, request.framework)
    with _TRACE_LOCK:
        lowered = _LOWERED.pop(key, None) or _trace_and_lower(*key)
        _LOWERED[key] = lowered  # the newest last
        while len(_LOWERED) > LOWERED_KEPT:
            _LOWERED.popitem(last=False)
        return lowered


def _trace_and_lower(source: str, framework: str) -> Lowered:
    try:
        return lower_graph(trace_reference(source, framework))
    except Unsupported:
        raise
    except Exception as exc:  # never a crash: whatever else stops it is named
        first_line = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise Unsupported(
            ["<builtin>"],
            f"the builtin agent stopped on this reference ({type(exc).__name__}: "
            f"{first_line}); " + LLM_HINT,
        ) from exc


def plan_design(request: AgentRequest) -> Design:
    lowered = _lower(request)
    plan = lowered.plan
    return Design(
        text=lowered.design(request.op_name),
        notes={"family": plan.family, "fused": lowered.fused},
    )


def write_code(request: AgentRequest) -> Candidate:
    lowered = _lower(request)
    plan = lowered.plan
    space = search_space(plan)
    config = request.alternative or choose_config(space, request.task_type, request.history)
    interpreter = request.target.backend == "cpu"
    code = lowered.render(request.op_name, config, interpreter)
    return Candidate(
        code=code,
        notes={
            "launch_config": config,
            "family": plan.family,
            "configs_total": len(configs_for(space)),
            # what a search may assign this node's children (docs/search.md)
            "alternatives": configs_for(space),
        },
    )


def _off_the_loop(work: Callable[[AgentRequest], T], request: AgentRequest) -> T:
    """``work(request)``, with a StopIteration turned into a RuntimeError: a Future cannot
    carry StopIteration, so one escaping into ``asyncio.to_thread`` would leave the await
    pending for ever instead of failing."""
    try:
        return work(request)
    except StopIteration as exc:
        raise RuntimeError(f"StopIteration escaped the builtin agent ({exc!r})") from exc


class BuiltinProvider:
    """Lowers the reference through torch tracing to Triton in this process; no LLM."""

    name = "builtin"

    async def design(self, request: AgentRequest) -> Design:
        return await asyncio.to_thread(_off_the_loop, plan_design, request)

    async def code(self, request: AgentRequest) -> Candidate:
        return await asyncio.to_thread(_off_the_loop, write_code, request)
