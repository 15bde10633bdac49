"""`TaskLaunch`: what `run_task` starts a task from, without knowing `Task`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from agents.llm.budget import Ledger
from machine import events as ev
from machine.conductor import mermaid_graph
from machine.spec import TaskSpec
from machine.state import TaskState

if TYPE_CHECKING:
    from devicepool import DevicePool
    from machine.config import Config

Observer = Callable[[ev.Event, TaskState], None]


@dataclass
class TaskLaunch:
    """What `run_task` (machine/runner.py) starts a task from; `machine/task.py`'s `Task`
    holds one. Its spec, config and devices, the reference written from its prose, who
    observes its events, and the signal that interrupts it (set by the task's owner, or by
    the runner on an outage)."""

    spec: TaskSpec
    config: Config
    device_pool: DevicePool
    source_path: str | None = None
    reference: ev.ReferenceProposed | None = None
    observers: list[Observer] = field(default_factory=list)
    interrupted_by: str | None = None
    ledgers: tuple[Ledger, ...] = ()  # LLM budgets shared with other tasks (a batch's)

    def created_event(self) -> ev.TaskCreated:
        return ev.TaskCreated(
            **{name: getattr(self.spec, name) for name in TaskSpec.__dataclass_fields__},
            config=self.config.model_dump(mode="json"),
            config_digest=self.config.digest(),
            graph=mermaid_graph(),
            aikg_version=_version(),
            source_path=self.source_path,
        )


def _version() -> str:
    try:
        return version("aikg")
    except PackageNotFoundError:
        return "0+unknown"
