"""Tiny task and scripted candidates for pool tests: real Triton kernels, real verifier.

The reference doubles its input, so `tests.machine.providers.KERNEL` (2*x) is correct.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aikg.config import load_config
from devicepool import DevicePool
from machine.task import Task
from tests.machine.providers import ScriptedProvider

DOUBLE = """
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return x * 2.0


def get_inputs():
    return [torch.randn(64)]


def get_init_inputs():
    return [1.0]
"""


def good() -> ScriptedProvider:
    return ScriptedProvider()


def wrong() -> ScriptedProvider:
    return ScriptedProvider("x = x + 1.0")


def crashing() -> ScriptedProvider:
    return ScriptedProvider("os.kill(os.getpid(), 11)  # SIGSEGV")


def sleeping(seconds: float) -> ScriptedProvider:
    """Correct, but sleeps in forward: holds its device that long."""
    provider = ScriptedProvider(f"time.sleep({seconds})")
    provider._code = provider._code.replace("import os\n", "import os\nimport time\n", 1)
    return provider


def make_task(tmp_path: Path, pool: DevicePool, task_id: str, **config: Any) -> Task:
    overrides = {"db": str(tmp_path / "events.db"), "verifier": {"trials": 1}, **config}
    return Task(
        op_name="double",
        task_desc=DOUBLE,
        task_id=task_id,
        backend="cpu",
        config=load_config(overrides=overrides),
        device_pool=pool,
        limit_steps=1,
    )
