"""aikg: verified, profiled Triton kernels from reference operators.

from aikg import Task, DevicePool, load_config
ok = await Task(op_name="swish", task_desc=source, backend="cpu").run()

The names are loaded on first use, so the `aikg` command's light subcommands (`ls`,
`show`, `--help`) do not pay for the config's and the LLM client's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aikg.config import Config, ConfigError, load_config
    from devicepool import DevicePool
    from machine.spec import TaskSpecError
    from machine.task import Task

_HOMES = {
    "Config": "aikg.config",
    "ConfigError": "aikg.config",
    "load_config": "aikg.config",
    "DevicePool": "devicepool",
    "TaskSpecError": "machine.spec",
    "Task": "machine.task",
}
__all__ = ["Config", "ConfigError", "DevicePool", "Task", "TaskSpecError", "load_config"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'aikg' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
