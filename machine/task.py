"""`Task`: one reference operator turned into a verified kernel. `await task.run()`."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devicepool import DevicePool
from machine import events as ev
from machine.prose import formula_reference, is_prose, llm_reference, written_by_llm
from machine.spec import (
    FRAMEWORKS,
    TASK_TYPES,
    TaskSpecError,
    check_combination,
    check_task_source,
)
from machine.state import TaskState

if TYPE_CHECKING:
    from machine.config import Config

# The parameters a Task, its RunSpec and its task.created event share.
SPEC_FIELDS = (
    "task_id",
    "op_name",
    "task_desc",
    "backend",
    "arch",
    "impl_type",
    "framework",
    "task_type",
    "limit_steps",
)


@dataclass(frozen=True)
class RunSpec:
    """What a run needs to know of its task: validated parameters, config and pool."""

    task_id: str
    op_name: str
    task_desc: str
    backend: str
    arch: str
    impl_type: str
    framework: str
    task_type: str
    limit_steps: int
    config: Config
    device_pool: DevicePool

    @classmethod
    def from_created(
        cls,
        spec: ev.TaskCreated,
        config: Config | None = None,
        device_pool: DevicePool | None = None,
    ) -> RunSpec:
        """Rebuilt from a stream, without checking this machine (replay needs no device)."""
        from machine.config import Config

        return cls(
            **{name: getattr(spec, name) for name in SPEC_FIELDS},
            config=config or Config.from_recorded(spec.config),
            device_pool=device_pool
            or DevicePool([spec.backend if spec.backend == "cpu" else f"{spec.backend}:0"]),
        )


# `Interrupted.signal_name` of a task stopped because its LLM endpoint did not answer.
LLM_OUTAGE = "llm_outage"


class Interrupted(Exception):
    """The run stopped before its end (a signal, an LLM outage); `task.interrupted` is
    recorded, nothing is lost, and `aikg resume` continues it.

    `detail` completes "task T interrupted ...": "by SIGINT", or what went wrong."""

    def __init__(self, signal_name: str, detail: str | None = None) -> None:
        self.signal_name = signal_name
        self.detail = detail or f"by {signal_name}"
        super().__init__(f"interrupted {self.detail}; resume with `aikg resume`")


def new_task_id(op_name: str) -> str:
    return f"{op_name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


class Task:
    """Validated on construction; nothing is recorded until `run()`."""

    def __init__(
        self,
        op_name: str,
        task_desc: str,
        task_id: str | None = None,
        backend: str = "cpu",
        arch: str | None = None,
        impl_type: str = "triton",
        config: Config | None = None,
        device_pool: DevicePool | None = None,
        framework: str = "torch",
        task_type: str = "precision_only",
        limit_steps: int = 10,
    ) -> None:
        from machine.config import Config, load_config

        if not op_name or not op_name.replace("_", "").replace("-", "").isalnum():
            raise TaskSpecError(f"op_name {op_name!r}: use letters, digits, '_' or '-'")
        if task_type not in TASK_TYPES:
            raise TaskSpecError(f"task_type {task_type!r}: use one of {', '.join(TASK_TYPES)}")
        if isinstance(limit_steps, bool) or not isinstance(limit_steps, int) or limit_steps < 1:
            raise TaskSpecError(f"limit_steps must be a positive integer, got {limit_steps!r}")
        if framework not in FRAMEWORKS:
            raise TaskSpecError(f"framework {framework!r}: use one of {', '.join(FRAMEWORKS)}")
        self.arch = check_combination(backend, arch, impl_type, framework)
        if config is None:
            config = load_config()
        elif isinstance(config, str | Path):
            config = load_config(config)
        elif not isinstance(config, Config):
            raise TaskSpecError("config must be an aikg Config (see aikg.load_config) or a path")
        self.reference: ev.ReferenceProposed | None = None  # written from prose
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
                self.reference = formula_reference(task_desc, config)
                task_desc = self.reference.source
        if self._prose is None:
            check_task_source(task_desc, framework)
        if device_pool is None:
            device_pool = DevicePool(config.devices or _default_devices(backend))
        if backend not in device_pool.kinds():
            raise TaskSpecError(
                f"the device pool ({', '.join(device_pool.devices)}) has no {backend} device"
            )
        self.op_name = op_name
        self.task_desc = task_desc
        self.task_id = task_id or new_task_id(op_name)
        self.backend = backend
        self.impl_type = impl_type
        self.config = config
        self.device_pool = device_pool
        self.framework = framework
        self.task_type = task_type
        self.limit_steps = limit_steps
        self.source_path: str | None = None
        self.state = TaskState()
        self.interrupted_by: str | None = None
        self._running: asyncio.Task[TaskState] | None = None
        self._observers: list[Callable[[ev.Event, TaskState], None]] = []

    async def propose_reference(self) -> ev.ReferenceProposed | None:
        """The reference written from this task's prose (None for a task file); an LLM
        Designer's model writes it here, once, before anything is recorded."""
        if self._prose is not None and self.reference is None:
            self.reference = await llm_reference(
                self._prose, self.op_name, self.backend, self.framework, self.config
            )
            self.task_desc = self.reference.source
        return self.reference

    def run_spec(self) -> RunSpec:
        return RunSpec(**{f.name: getattr(self, f.name) for f in fields(RunSpec)})

    def subscribe(self, observer: Callable[[ev.Event, TaskState], None]) -> None:
        """Call `observer(event, state)` after each event this task appends."""
        self._observers.append(observer)

    def created_event(self) -> ev.TaskCreated:
        from machine.conductor import mermaid_graph

        return ev.TaskCreated(
            **{name: getattr(self, name) for name in SPEC_FIELDS},
            config=self.config.model_dump(mode="json"),
            config_digest=self.config.digest(),
            graph=mermaid_graph(),
            aikg_version=_version(),
            source_path=self.source_path,
        )

    async def run(self, providers: dict[str, Any] | None = None, verifier: Any = None) -> bool:
        """Run (or resume) the task to its end; True only for a verified kernel.

        `providers` ({"designer": ..., "coder": ...}) replaces the agents the config names;
        `verifier` replaces the configured verifier (benchmarks of scheduling use a fake).
        """
        from machine.runner import run_task

        await self.propose_reference()
        self._running = asyncio.ensure_future(run_task(self, providers, verifier))
        try:
            self.state = await self._running
        finally:
            self._running = None
        return self.state.success

    def interrupt(self, signal_name: str = "SIGINT") -> None:
        """Stop gracefully: the step in flight is abandoned (and redone on resume)."""
        self.interrupted_by = signal_name
        if self._running is not None:
            self._running.cancel()

    @classmethod
    def from_created(
        cls,
        spec: ev.TaskCreated,
        config: Config | None = None,
        device_pool: DevicePool | None = None,
    ) -> Task:
        """The Task a stream's `task.created` describes (for resume and fork)."""
        from machine.config import Config

        task = cls(
            op_name=spec.op_name,
            task_desc=spec.task_desc,
            task_id=spec.task_id,
            backend=spec.backend,
            arch=spec.arch,
            impl_type=spec.impl_type,
            config=config or Config.from_recorded(spec.config),
            device_pool=device_pool,
            framework=spec.framework,
            task_type=spec.task_type,
            limit_steps=spec.limit_steps,
        )
        task.source_path = spec.source_path
        return task


def _default_devices(backend: str) -> list[str]:
    if backend == "cuda":
        import torch

        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if backend == "ascend":
        import torch
        import torch_npu  # noqa: F401  (checked installed by check_combination)

        return [f"ascend:{i}" for i in range(torch.npu.device_count())]  # type: ignore[attr-defined]
    return ["cpu"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aikg")
    except PackageNotFoundError:
        return "0+unknown"
