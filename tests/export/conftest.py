"""A task verified by a real `aikg run` (the built-in agent, Triton's CPU interpreter), once
per session; the op-export tests read its log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TRITON_INTERPRET", "1")

# A parameter (the reference's weights reach the kernel by name) and a second shape
# (get_input_variants: the envelope's rows range over 3..8).
TASK = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.bias) * 2.0


def get_inputs():
    return [torch.randn(8, 32)]


def get_input_variants():
    return [[torch.randn(3, 32)]]


def get_init_inputs():
    return [32]
"""


@dataclass(frozen=True)
class VerifiedTask:
    directory: Path
    db: Path
    task_file: Path
    task_id: str

    def aikg(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """The real `aikg` command on this task's log."""
        return subprocess.run(
            [sys.executable, "-m", "aikg", *args],
            cwd=cwd or self.directory,
            env={**os.environ, "AIKG_DB": str(self.db)},
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture(scope="session")
def verified_task(tmp_path_factory: pytest.TempPathFactory) -> VerifiedTask:
    directory = tmp_path_factory.mktemp("export")
    task_file = directory / "bias_relu.py"
    task_file.write_text(TASK)
    task = VerifiedTask(directory, directory / "events.db", task_file, "bias-relu-1")
    done = task.aikg(
        "run",
        str(task_file),
        "--llm",
        "builtin",
        "--limit-steps",
        "2",
        "--task-id",
        task.task_id,
        "--json",
        "-q",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "verified"
    return task
