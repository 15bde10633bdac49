"""What the verifier's sandbox will be, said once before a command runs tasks.

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


def sandbox_for(config: Config, require: bool) -> SandboxReport:
    """The sandbox the config's workers get here; UsageError when it falls short of asked."""
    mode = config.verifier.sandbox
    try:
        report = plan(mode)
    except SandboxError as exc:
        raise UsageError(str(exc)) from None
    if require and not report.confined:
        fix = (
            "set verifier.sandbox: auto"
            if mode == "off"
            else "run on Linux >= 5.13 with Landlock enabled"
        )
        raise UsageError(f"--require-sandbox: {report.describe()}; {fix}, or drop the flag")
    return report


def say_sandbox(report: SandboxReport, quiet: bool, stream: TextIO = sys.stderr) -> None:
    """One line per process: the mechanism, or a loud warning when candidates run unconfined."""
    line = report.describe()
    if line in _said:
        return
    _said.add(line)
    if report.mechanism == "none":
        print(f"aikg: WARNING: {line}", file=stream, flush=True)
    elif not quiet:
        print(f"aikg: {line}", file=stream, flush=True)
