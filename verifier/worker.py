"""The worker process: ``python -m verifier.worker``.

Protocol (JSON lines): the parent writes a nonce line, then one job per line on stdin; the
worker answers ``{"ready": ...}`` once torch and Triton are imported, then one
``{"result": ..., "recycle": ...}`` per job. While a job runs, the worker may ask for the
device gate (``verifier/device_gate.py``): ``{"gate": MODE}``, answered on stdin by the
same ``{"gate": MODE}`` once the parent grants it. Answers go to a private duplicate of the
original stdout; fd 1 is pointed at stderr so the candidate's prints cannot corrupt the
protocol, and every answer carries the nonce.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from verifier.process import MEMORY_ENV, RSS_LIMIT_ENV
from verifier.sandbox_worker import close_sockets_once_cuda_is_up, confine_worker


def _vm_size_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_memory() -> None:
    """Caps the address space at what is mapped now plus the headroom (CPU workers only)."""
    headroom = os.environ.get(MEMORY_ENV)
    if headroom and os.path.exists("/proc/self/status"):
        limit = _vm_size_bytes() + int(headroom)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _send(stream: TextIO, nonce: str, message: dict[str, Any]) -> None:
    stream.write(json.dumps({"nonce": nonce, **message}) + "\n")
    stream.flush()


def _gate_asker(protocol: TextIO, nonce: str) -> Callable[[str], None]:
    """Asks the parent for the device gate in a mode and blocks until it is granted."""

    def ask(mode: str) -> None:
        _send(protocol, nonce, {"gate": mode})
        line = sys.stdin.readline()
        if not line:
            raise ConnectionError("the verifier closed the worker's input mid-job")
        if json.loads(line).get("gate") != mode:
            raise ConnectionError(f"the verifier did not grant the device gate ({mode})")

    return ask


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _exit_with_parent(interval_s: float = 0.5) -> None:
    """A worker whose parent died (even by SIGKILL, mid-job) ends itself and its group."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="aikg-parent-watch", daemon=True).start()


def _import_framework(framework: str) -> None:
    """The reference's framework, imported before the sandbox watch starts: what it tries
    on import (MindSpore runs ``lscpu``; the kernel refuses) is not the candidate's doing."""
    if framework == "mindspore":
        with contextlib.suppress(ImportError):
            import mindspore  # noqa: F401


def main() -> int:
    sandbox, watch = confine_worker(Path.cwd())  # before any thread, import or candidate
    _exit_with_parent()
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    nonce = sys.stdin.readline().strip()
    import torch
    import triton  # noqa: F401

    close_sockets_once_cuda_is_up(sandbox)
    from verifier.child import run_job
    from verifier.gate_client import GateClient
    from verifier.result import VerifyJob

    _limit_memory()
    rss_limit = int(os.environ.get(RSS_LIMIT_ENV, "0"))
    _send(protocol, nonce, {"ready": True, "pid": os.getpid(), "sandbox": sandbox.to_dict()})
    workdir = Path.cwd()
    gate = GateClient(_gate_asker(protocol, nonce))
    for line in iter(sys.stdin.readline, ""):
        if not line.strip():
            continue
        job = VerifyJob.from_dict(json.loads(line))
        jobdir = Path(tempfile.mkdtemp(prefix="job-", dir=workdir))
        _import_framework(job.framework)
        watch.start()
        try:
            outcome = run_job(job, jobdir, gate)
        finally:
            shutil.rmtree(jobdir, ignore_errors=True)
        result = watch.verdict(outcome.result)
        recycle = outcome.recycle or bool(rss_limit and _peak_rss_bytes() > rss_limit)
        if job.device.startswith("cuda"):
            torch.cuda.empty_cache()
        _send(protocol, nonce, {"result": result.to_dict(), "recycle": recycle})
    if workdir.parent.name.startswith("aikg-worker-"):
        # End of input: the parent has gone or closed us; leave no private folder behind.
        shutil.rmtree(workdir.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
