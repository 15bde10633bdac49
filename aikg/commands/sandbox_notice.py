"""What the verifier's sandbox will be: checked with the flags, said once as tasks start.

`auto` where the kernel has no Landlock is said loudly (the static check is then the only
wall); `--require-sandbox` turns that, and `verifier.sandbox: off`, into a refusal (exit 2).
"""

from __future__ import annotations

import sys
from typing import TextIO

from aikg.commands import UsageError
from aikg.config import Config
from verifier.sandbox import SandboxError, SandboxReport, plan

_said: set[str] = set()


def sandbox_for(config: Config, require: bool, gpu: bool = False) -> SandboxReport:
    """The sandbox the config's workers get here (``gpu``: CUDA workers); UsageError when it
    falls short of what was asked."""
    mode = config.verifier.sandbox
    try:
        report = plan(mode, gpu)
    except SandboxError as exc:
        raise UsageError(str(exc)) from None
    if require and not report.confined:
        if mode == "off":
            fix = "set verifier.sandbox: auto"
        else:
            fix = "run on Linux >= 5.13 with Landlock enabled"
        raise UsageError(f"--require-sandbox: {report.describe()}; {fix}, or drop the flag")
    return report


def say_sandbox(
    config: Config, quiet: bool, gpu: bool = False, stream: TextIO = sys.stderr
) -> None:
    """Once per process, just before tasks start: the mechanism (unless ``quiet``), or a loud
    warning when candidates will run with the static check alone (``gpu``: CUDA workers)."""
    report = plan(config.verifier.sandbox, gpu)
    line = report.describe()
    if line in _said:
        return
    _said.add(line)
    if report.mechanism == "none":
        print(f"aikg: WARNING: {line}", file=stream, flush=True)
    elif not quiet:
        print(f"aikg: {line}", file=stream, flush=True)
