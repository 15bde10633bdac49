"""aikg: verified, profiled Triton kernels from reference operators.

from aikg import Task, DevicePool, load_config
ok = await Task(op_name="swish", task_desc=source, backend="cpu").run()
"""

from aikg.config import Config, ConfigError, load_config
from devicepool import DevicePool
from machine.spec import TaskSpecError
from machine.task import Task

__all__ = ["Config", "ConfigError", "DevicePool", "Task", "TaskSpecError", "load_config"]
