"""Inductor's nvidia-smi clock query is asked before the sandbox and answered after it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.script_report import script_report
from verifier.gpu_facts import MAX_SM_CLOCK_ENV, QUERY

SCRIPT = """
import json, os, sys
from verifier import gpu_facts
gpu_facts.remember_before_confining()
import torch._utils_internal as internal
original = internal.max_clock_rate
gpu_facts.answer_inductor()
answered = internal.max_clock_rate is not original
print(json.dumps({"answered": answered, "mhz": internal.max_clock_rate() if answered else None,
                  "env": os.environ.get(gpu_facts.MAX_SM_CLOCK_ENV)}))
"""


def _fake_nvidia_smi(folder: Path, body: str) -> Path:
    program = folder / "nvidia-smi"
    program.write_text(f'#!/bin/sh\necho "$@" >> {folder / "calls"}\n{body}\n')
    program.chmod(0o755)
    return folder


def _run(path_dir: Path) -> dict[str, object]:
    path = f"{path_dir}:{os.environ['PATH']}"
    return script_report(SCRIPT, env={"PATH": path, MAX_SM_CLOCK_ENV: None})


def test_the_clock_nvidia_smi_reports_answers_inductor_without_running_it_again(
    tmp_path: Path,
) -> None:
    folder = _fake_nvidia_smi(tmp_path, "echo 1980")
    got = _run(folder)
    assert got == {"answered": True, "mhz": 1980, "env": "1980"}
    # asked exactly once, with torch's own query; answering did not run it again
    assert (tmp_path / "calls").read_text().split("\n")[:-1] == [" ".join(QUERY)]


def test_a_failing_nvidia_smi_leaves_inductor_as_it_was(tmp_path: Path) -> None:
    folder = _fake_nvidia_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2; exit 9")
    assert _run(folder) == {"answered": False, "mhz": None, "env": None}
