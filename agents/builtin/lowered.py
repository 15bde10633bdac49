"""A reference lowered into kernels: `Lowered` (one fused kernel, or stages launched in
order) and its `Stage`s, which render the candidate module and the design text.

The partitioner (stages.py) builds them; attention.py and matmul_rows.py subclass `Lowered`
for the kernels they render their own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.builtin.design import design_text
from agents.builtin.kernel_writer import KernelWriter
from agents.builtin.reference import Traced
from agents.builtin.render import (
    describe,
    kernel_name,
    kernel_writers,
    launch_lines,
    module_source,
    plan_summary,
    render_module,
    return_line,
)
from agents.builtin.search import configs_for, search_space
from agents.builtin.values import Plan


@dataclass
class Stage:
    """One kernel's plan and the buffers it shares with the other stages."""

    plan: Plan
    reads: list[str]  # buffers written by earlier stages
    writes: list[str]  # buffers later stages read (the forward's results aside)


@dataclass
class Lowered:
    """A reference lowered into one fused kernel or into stages launched in order."""

    traced: Traced
    stages: list[Stage]
    outputs: list[str]  # forward's results, in order

    @property
    def plan(self) -> Plan:
        """The plan whose family picks the configs: the first kernel's (it reads the
        inputs), or the first reduction's or matmul's after a copy stage."""
        plans = [stage.plan for stage in self.stages]
        return next((p for p in plans if p.family != "pointwise"), plans[0])

    @property
    def fused(self) -> list[str]:
        return [op for stage in self.stages for op in stage.plan.fused]

    def render(self, op_name: str, config: dict[str, Any], interpreter: bool) -> str:
        if len(self.stages) == 1:
            return render_module(op_name, self.traced, self.plan, config, interpreter)
        config = self.stage_config(config)
        summary, writers, forward = self.stage_parts(op_name, config, interpreter)
        forward.append(return_line(self.traced, self.outputs))
        title = f"Triton kernels for `{op_name}` in {len(self.stages)} stages"
        return module_source(title, self.traced, config, summary, writers, forward)

    def stage_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The searched config, and for a stage of another family (a copy stage, a matmul
        before a reduction) that family's first config's keys."""
        defaults = {
            k: v for st in self.stages for k, v in configs_for(search_space(st.plan))[0].items()
        }
        return {**defaults, **config}

    def stage_parts(
        self, op_name: str, config: dict[str, Any], interpreter: bool
    ) -> tuple[list[str], list[KernelWriter], list[str]]:
        """The stages' header lines, kernels, and forward lines that launch them in order."""
        summary: list[str] = []
        writers: list[KernelWriter] = []
        forward: list[str] = []
        for number, stage in enumerate(self.stages, 1):
            name = kernel_name(f"{op_name}_stage{number}")
            stage_writers = kernel_writers(stage.plan, name, config, interpreter)
            fuses, plan_line = plan_summary(stage.plan, name)
            summary += [f"Stage {number}. {fuses}", f"  {plan_line}", *_io_lines(stage)]
            forward.append(f"# stage {number}: {describe(stage.plan)}")
            forward += launch_lines(stage.plan, self.traced, config, stage_writers)
            # an output written in a matmul's shape and read through a view of it
            forward += [f"{o.name} = {o.returned}" for o in stage.plan.outputs if o.returned]
            writers += stage_writers
        return summary, writers, forward

    def design(self, op_name: str) -> str:
        if len(self.stages) == 1:
            return design_text(op_name, self.plan)
        lines = [
            f"{len(self.stages)} Triton kernels launched in order: a later kernel reads what "
            "an earlier one wrote to a buffer (for a reduction over other dims or another "
            "shape, or a view of a computed value)."
        ]
        for number, stage in enumerate(self.stages, 1):
            lines.append(f"Stage {number}: " + design_text(f"{op_name}_stage{number}", stage.plan))
            lines += [line.strip() for line in _io_lines(stage)]
        return "\n".join(lines)


def _io_lines(stage: Stage) -> list[str]:
    lines = [f"  Reads {', '.join(stage.reads)} from an earlier stage."] if stage.reads else []
    if stage.writes:
        lines.append(f"  Writes {', '.join(stage.writes)} for a later stage.")
    return lines
