"""`aikg doctor`: one screen on what this machine can do with aikg.

Python, torch and Triton, the devices and the arch aikg names, whether Triton compiles or
runs in its interpreter, a GPU's copy bandwidth and matmul rate (measured once, cached),
the optional extras, the verifier's sandbox, the event log's path and health (`aikg db
check`'s logic), and the LLM endpoint and whether it answers. Exit 0 when `aikg run
examples/swish.py` can work here; 1, with the reason on the last line, when it cannot.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from aikg.commands import EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.common import config_for
from aikg.commands.db import check_log
from aikg.config import Config
from aikg.writable import check_event_log
from store import StoreError, resolve_db_path

EXTRAS = ("ray", "mindspore", "matplotlib")  # pyproject's optional dependencies
LLM_PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Line:
    label: str
    text: str
    blocking: bool = False  # `aikg run examples/swish.py` cannot work while this holds


def version_lines() -> list[Line]:
    lines = [Line("python", f"{platform.python_version()} ({sys.executable})")]
    for module in ("torch", "triton"):
        try:
            imported = importlib.import_module(module)
        except Exception as exc:  # a broken install raises anything on import
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            lines.append(Line(module, f"cannot import ({reason}): pip install {module}", True))
            continue
        lines.append(Line(module, str(imported.__version__)))
    return lines


def device_lines() -> list[Line]:
    import torch

    from machine.spec import detect_cuda_arch

    count = torch.cuda.device_count()
    if count == 0:
        lines = [Line("devices", "cpu only (no CUDA device visible)")]
        interpret = "interpreter (TRITON_INTERPRET=1): correct but slow; timings are not speedups"
        return [*lines, Line("triton mode", interpret)]
    names = ", ".join(f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(count))
    lines = [Line("devices", f"{names}; aikg names the arch {detect_cuda_arch()}")]
    lines.append(Line("triton mode", "compiled on CUDA (--backend cuda); the interpreter on cpu"))
    from aikg.device_rates import device_rates

    lines.append(Line("gpu rates", device_rates("cuda:0").describe()))
    return lines


def extras_line() -> Line:
    found = []
    for name in EXTRAS:
        if importlib.util.find_spec(name) is None:
            found.append(f"{name} not installed")
        else:
            found.append(f"{name} {importlib.metadata.version(name)}")
    return Line("extras", ", ".join(found))


def sandbox_lines(config: Config, gpu: bool) -> list[Line]:
    """What the verifier's workers get: on the CPU, and on a GPU when one is present."""
    from verifier.sandbox import SandboxError, plan

    mode = config.verifier.sandbox
    lines = []
    for label, on_gpu in (("sandbox", False), ("sandbox (cuda)", True))[: 2 if gpu else 1]:
        try:
            described = plan(mode, on_gpu).describe().removeprefix("sandbox: ")
        except SandboxError as exc:
            described = str(exc)
        lines.append(Line(label, f"{described} (what verifier.sandbox: {mode} uses)"))
    return lines


async def event_log_line(path: Path) -> Line:
    try:
        check_event_log(path)
        if not path.exists():
            return Line("event log", f"{path}: not created yet (the first task creates it)")
        health = await check_log(path)
    except (UsageError, StoreError) as exc:
        return Line("event log", str(exc), True)
    first = f"; first: {health.problems[0]} (see `aikg db check`)" if health.problems else ""
    return Line("event log", health.summary() + first)


def llm_line(config: Config) -> Line:
    """The coder's endpoint (the role every task calls first) and whether it answers."""
    role = config.agents.coder
    if role.provider != "openai":
        return Line("llm", f"{role.provider} (no endpoint needed)")
    where = f"{role.base_url} model {role.model}"
    if role.api_key_env and not os.environ.get(role.api_key_env):
        return Line("llm", f"{where}: ${role.api_key_env} is not set: export it", True)
    url = f"{(role.base_url or '').rstrip('/')}/models"
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=LLM_PROBE_TIMEOUT_S):
            pass
    except urllib.error.HTTPError as exc:  # it answered, if only to refuse
        took = time.monotonic() - started
        return Line("llm", f"{where}: answers (HTTP {exc.code} to GET /models in {took:.2f}s)")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Line(
            "llm",
            f"{where}: does not answer ({reason}): start it, or pass --llm builtin",
            True,
        )
    return Line("llm", f"{where}: answers ({time.monotonic() - started:.2f}s)")


async def cmd_doctor(args: argparse.Namespace) -> int:
    config = config_for(args)
    lines = version_lines()
    if not any(line.blocking for line in lines):
        lines += device_lines()
    lines += [
        extras_line(),
        *sandbox_lines(config, gpu=any(ln.label == "gpu rates" for ln in lines)),
    ]
    lines.append(await event_log_line(resolve_db_path(config.db)))
    lines.append(llm_line(config))
    width = max(len(line.label) for line in lines)
    print("aikg doctor")
    for line in lines:
        print(f"  {line.label:<{width}}  {line.text}")
    blocking = [line for line in lines if line.blocking]
    if blocking:
        print(f"not ready: {blocking[0].label}: {blocking[0].text}")
        return EXIT_FAILED
    print("ready: `aikg run examples/swish.py` can work here")
    return EXIT_OK
