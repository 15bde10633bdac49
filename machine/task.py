"""`Task`: one reference operator turned into a verified kernel. `await task.run()`.

A thin façade: it checks its parameters into a `TaskSpec` (machine/spec.py), loads the
config, writes a reference from prose, and hands a `TaskLaunch` to `run_task`
(machine/runner.py), which never imports this module.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devicepool import DevicePool
from devicepool.detect import detect_devices
from machine import events as ev
from machine.launch import Observer, TaskLaunch
from machine.prose import formula_reference, is_prose, llm_reference, written_by_llm
from machine.spec import TaskSpec, TaskSpecError, check_task_source, checked_spec
from machine.state import TaskState

if TYPE_CHECKING:
    from machine.config import Config


class Task:
    """Validated on construction; nothing is recorded until `run()`. The spec's fields read
    as the task's own (`task.task_id`, `task.backend`, ...)."""

    def __init__(
        self,
        op_name: str,
        task_desc: str,
        task_id: str | None = None,
        backend: str = "cpu",
        arch: str | None = None,
        impl_type: str = "triton",
        config: Config | str | Path | None = None,
        device_pool: DevicePool | None = None,
        framework: str = "torch",
        task_type: str = "precision_only",
        limit_steps: int = 10,
    ) -> None:
        from machine.config import Config, load_config

        spec = checked_spec(
            op_name=op_name,
            task_desc=task_desc,
            task_id=task_id,
            backend=backend,
            arch=arch,
            impl_type=impl_type,
            framework=framework,
            task_type=task_type,
            limit_steps=limit_steps,
        )
        if config is None:
            config = load_config()
        elif isinstance(config, str | Path):
            config = load_config(config)
        elif not isinstance(config, Config):
            raise TaskSpecError("config must be an aikg Config (see aikg.load_config) or a path")
        reference: ev.ReferenceProposed | None = None  # written from prose
        self._prose: str | None = None  # prose whose reference the Designer's model writes
        if is_prose(task_desc):
            if framework != "torch":
                raise TaskSpecError(
                    f"a task described in prose gets a torch reference, not {framework}: "
                    "drop --framework"
                )
            if written_by_llm(config):
                self._prose = task_desc
            else:
                reference = formula_reference(task_desc, config)
                spec = replace(spec, task_desc=reference.source)
        if self._prose is None:
            check_task_source(spec.task_desc, framework)
        if device_pool is None:
            device_pool = DevicePool(config.devices or detect_devices(backend))
        if backend not in device_pool.kinds():
            raise TaskSpecError(
                f"the device pool ({', '.join(device_pool.devices)}) has no {backend} device"
            )
        self.launch: TaskLaunch = TaskLaunch(spec, config, device_pool, reference=reference)
        self.state = TaskState()
        self._running: asyncio.Task[TaskState] | None = None

    def __getattr__(self, name: str) -> Any:
        if name in TaskSpec.__dataclass_fields__:
            return getattr(self.launch.spec, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # a spec field written here would land on the façade only, never recorded or run
        if name in TaskSpec.__dataclass_fields__ and name != "task_id":
            raise AttributeError(f"{name} is part of the task's frozen spec: make a new Task")
        super().__setattr__(name, value)

    @property
    def spec(self) -> TaskSpec:
        return self.launch.spec

    @property
    def task_id(self) -> str:
        return self.launch.spec.task_id

    @task_id.setter
    def task_id(self, task_id: str) -> None:
        """Takes over a recorded stream (bench/batch resume): the spec is frozen, so the
        launch gets a copy with this id, which is what the runner records and resumes."""
        self.launch.spec = replace(self.launch.spec, task_id=task_id)

    @property
    def config(self) -> Config:
        return self.launch.config

    @property
    def device_pool(self) -> DevicePool:
        return self.launch.device_pool

    @property
    def reference(self) -> ev.ReferenceProposed | None:
        return self.launch.reference

    @property
    def interrupted_by(self) -> str | None:
        return self.launch.interrupted_by

    @property
    def source_path(self) -> str | None:
        return self.launch.source_path

    @source_path.setter
    def source_path(self, path: str | None) -> None:
        self.launch.source_path = path

    async def propose_reference(self) -> ev.ReferenceProposed | None:
        """The reference written from this task's prose (None for a task file); an LLM
        Designer's model writes it here, once, before anything is recorded."""
        launch = self.launch
        if self._prose is not None and launch.reference is None:
            spec = launch.spec
            launch.reference = await llm_reference(
                self._prose, spec.op_name, spec.backend, spec.framework, launch.config
            )
            launch.spec = replace(spec, task_desc=launch.reference.source)
        return launch.reference

    def subscribe(self, observer: Observer) -> None:
        """Call `observer(event, state)` after each event this task appends."""
        self.launch.observers.append(observer)

    def created_event(self) -> ev.TaskCreated:
        return self.launch.created_event()

    async def run(self, providers: dict[str, Any] | None = None, verifier: Any = None) -> bool:
        """Run (or resume) the task to its end; True only for a verified kernel.

        `providers` ({"designer": ..., "coder": ...}) replaces the agents the config names;
        `verifier` replaces the configured verifier (benchmarks of scheduling use a fake).
        """
        from machine.runner import run_task

        await self.propose_reference()
        self._running = asyncio.ensure_future(run_task(self.launch, providers, verifier))
        try:
            self.state = await self._running
        finally:
            self._running = None
        return self.state.success

    def interrupt(self, signal_name: str = "SIGINT") -> None:
        """Stop gracefully: the step in flight is abandoned (and redone on resume)."""
        self.launch.interrupted_by = signal_name
        if self._running is not None:
            self._running.cancel()

    @classmethod
    def from_created(
        cls,
        created: ev.TaskCreated,
        config: Config | None = None,
        device_pool: DevicePool | None = None,
    ) -> Task:
        """The Task a stream's `task.created` describes (for resume and fork)."""
        from machine.config import Config

        task = cls(
            op_name=created.op_name,
            task_desc=created.task_desc,
            task_id=created.task_id,
            backend=created.backend,
            arch=created.arch,
            impl_type=created.impl_type,
            config=config or Config.from_recorded(created.config),
            device_pool=device_pool,
            framework=created.framework,
            task_type=created.task_type,
            limit_steps=created.limit_steps,
        )
        task.source_path = created.source_path
        return task
