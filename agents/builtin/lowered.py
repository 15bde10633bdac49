"""A reference lowered into kernels: `Lowered` (one fused kernel, or stages launched in
order) and its `Stage`s, which render the candidate module and the design text.

The partitioner (stages.py) builds them; attention.py and matmul_rows.py subclass `Lowered`
for the kernels they render their own way.

Each stage launches as it would in a candidate of its own: the searched configuration is
an entry of the list of the plan that picks it (`Lowered.plan`), and every stage takes the
entry at the same index of its own family's list (its first where that list is shorter, or
where the configuration is none of the list's), or the searched one itself where its list is
the same. A stage's upper-case keys become module constants under the stage's prefix
(`STAGE2_BLOCK_R`), which `forward` binds to the bare names (`BLOCK_R = STAGE2_BLOCK_R`)
just before the stage's host code reads them, so two stages never share a key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.builtin.design import design_text
from agents.builtin.kernel_writer import KernelWriter
from agents.builtin.reference import Traced
from agents.builtin.render import (
    describe,
    kernel_name,
    kernel_writers,
    launch_config_line,
    launch_lines,
    module_constants,
    module_source,
    plan_summary,
    render_module,
    return_line,
)
from agents.builtin.search import configs_for, search_space
from agents.builtin.values import Plan


@dataclass
class StageParts:
    """What the stages add to a candidate module."""

    summary: list[str] = field(default_factory=list)  # header lines
    constants: dict[str, Any] = field(default_factory=dict)  # each stage's under its prefix
    writers: list[KernelWriter] = field(default_factory=list)
    forward: list[str] = field(default_factory=list)  # launches the stages in order


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
        parts = self.stage_parts(op_name, self.stage_configs(config), interpreter)
        forward = [*parts.forward, return_line(self.traced, self.outputs)]
        summary = [*parts.summary, launch_config_line(config)]
        title = f"Triton kernels for `{op_name}` in {len(self.stages)} stages"
        return module_source(title, self.traced, summary, parts.constants, parts.writers, forward)

    def stage_configs(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        """Each stage's launch configuration: the searched one for a stage of the searched
        list, else its own list's entry at the searched one's index (or its first)."""
        searched = search_space(self.plan)
        listed = configs_for(searched)
        index = listed.index(config) if config in listed else 0
        configs = []
        for stage in self.stages:
            space = search_space(stage.plan)
            own = configs_for(space)
            configs.append(config if space == searched else own[index if index < len(own) else 0])
        return configs

    def stage_parts(
        self, op_name: str, configs: list[dict[str, Any]], interpreter: bool
    ) -> StageParts:
        """The stages' header lines, constants, kernels, and forward lines that launch them
        in order, each stage with its own configuration of `configs`."""
        parts = StageParts()
        for number, (stage, config) in enumerate(zip(self.stages, configs, strict=True), 1):
            name = kernel_name(f"{op_name}_stage{number}")
            stage_writers = kernel_writers(stage.plan, name, config, interpreter)
            fuses, plan_line = plan_summary(stage.plan, name)
            parts.summary += [f"Stage {number}. {fuses}", f"  {plan_line}", *_io_lines(stage)]
            parts.summary.append(f"  Launch config: {config}.")
            prefix = f"STAGE{number}_"
            constants = module_constants(config)
            parts.constants.update({prefix + k: v for k, v in constants.items()})
            parts.forward.append(f"# stage {number}: {describe(stage.plan)}")
            parts.forward += [f"{k} = {prefix}{k}" for k in constants]
            parts.forward += launch_lines(stage.plan, self.traced, config, stage_writers)
            # an output written in a matmul's shape and read through a view of it
            parts.forward += [f"{o.name} = {o.returned}" for o in stage.plan.outputs if o.returned]
            parts.writers += stage_writers
        return parts

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
