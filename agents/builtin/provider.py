"""The builtin, LLM-free provider: trace, lower, render, and search launch configs."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from agents.builtin.design import design_text
from agents.builtin.errors import LLM_HINT
from agents.builtin.lowering import lower
from agents.builtin.reference import Traced, trace_reference
from agents.builtin.render import render_module
from agents.builtin.search import choose_config, configs_for
from agents.builtin.values import Plan
from agents.types import AgentRequest, Candidate, Design, Unsupported

# torch's tracing modes are process-wide state: trace one reference at a time
_TRACE_LOCK = threading.Lock()


@dataclass
class Lowered:
    traced: Traced
    plan: Plan


def _lower(request: AgentRequest) -> Lowered:
    if request.target.impl_type != "triton":
        raise Unsupported(
            [f"<{request.target.impl_type}>"],
            f"the builtin agent writes Triton only, not {request.target.impl_type}; " + LLM_HINT,
        )
    with _TRACE_LOCK:
        traced = trace_reference(request.reference_source, request.framework)
        return Lowered(traced, lower(traced))


class BuiltinProvider:
    """Lowers the reference through torch tracing to Triton; no LLM involved."""

    name = "builtin"

    async def design(self, request: AgentRequest) -> Design:
        lowered = await asyncio.to_thread(_lower, request)
        plan = lowered.plan
        return Design(
            text=design_text(request.op_name, plan),
            notes={"family": plan.family, "fused": list(plan.fused)},
        )

    async def code(self, request: AgentRequest) -> Candidate:
        lowered = await asyncio.to_thread(_lower, request)
        plan = lowered.plan
        config = choose_config(plan.family, request.task_type, request.history)
        interpreter = request.target.backend == "cpu"
        code = render_module(request.op_name, lowered.traced, plan, config, interpreter)
        return Candidate(
            code=code,
            notes={
                "launch_config": config,
                "family": plan.family,
                "configs_total": len(configs_for(plan.family)),
            },
        )
