"""Is the reference runnable? Checked before a task is recorded, in a scrubbed subprocess.

A task file whose `get_init_inputs()` or `get_inputs()` raises or returns no tensors, or
whose `Model` cannot run on its own inputs, is bad input (exit 2), not a task that fails
step after step. The task file is user code, so it runs in `python -m aikg.reference_probe`
with the verifier worker's scrubbed environment (no API keys) in a private directory.
A probe that crashes or times out is inconclusive: the task goes on, and the verifier
reports what it finds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterable

from aikg.commands import UsageError
from machine.task import Task
from machine.verify_step import uses_small_shapes
from verifier.process import scrubbed_env
from verifier.sandbox_worker import SANDBOX_ENV

PROBE_TIMEOUT_S = 300.0


async def reference_problem(
    source: str,
    framework: str,
    small: bool,
    secret_env_names: Iterable[str],
    timeout_s: float = PROBE_TIMEOUT_S,
    sandbox: str = "auto",
) -> str | None:
    """What stops the reference from running on its own inputs; None when nothing does
    (or when the probe could not tell). The probe confines itself as the verifier's worker
    does (``sandbox``: the config's ``verifier.sandbox``)."""
    job = json.dumps({"source": source, "framework": framework, "small": small}).encode()
    with tempfile.TemporaryDirectory(prefix="aikg-reference-") as workdir:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aikg.reference_probe",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=workdir,
            env={**scrubbed_env("cpu", secret_env_names), SANDBOX_ENV: sandbox},
            start_new_session=True,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(job), timeout_s)
        except asyncio.TimeoutError:
            return None
        finally:
            if proc.returncode is None:  # timed out, or the command was interrupted
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
    try:
        return json.loads(out.decode().strip().splitlines()[-1])["problem"]
    except (ValueError, IndexError, KeyError):
        return None  # the probe itself died: the verifier will say what happens


async def check_reference(task: Task, where: str) -> None:
    """Raise a one-line UsageError naming the reference's function that fails, and how.

    The inputs are the ones the verifier will use: small shapes where the task's config
    asks for them (the CPU by default)."""
    small = uses_small_shapes(task.backend, task.config.verifier.shapes)
    secrets = task.config.agents.secret_env_names()
    problem = await reference_problem(
        task.task_desc, task.framework, small, secrets, sandbox=task.config.verifier.sandbox
    )
    if problem is not None:
        raise UsageError(
            f"{where}: the reference does not run: {problem}; fix the task file "
            "(its Model must run on what get_inputs() and get_init_inputs() return)"
        )
