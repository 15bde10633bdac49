"""One worker subprocess: start it, hand it jobs, and kill its whole process group.

The worker runs in its own session (process group) in a private temporary directory with
a scrubbed environment. A hard wall timeout, a dead worker or a garbled reply each become
a ``VerifyResult`` (stages ``timeout`` and ``crash``), never an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from verifier.device_gate import MODES, DeviceGate, GateHold
from verifier.result import VerifyJob, VerifyResult

SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
READ_LIMIT = 64 << 20
MEMORY_ENV = "AIKG_VERIFY_MEMORY_HEADROOM"  # CPU workers: address-space headroom in bytes
RSS_LIMIT_ENV = "AIKG_VERIFY_RSS_LIMIT"  # peak RSS after which a worker is replaced
DEVICE_ENV = "AIKG_WORKER_DEVICE"  # GPU workers: the device whose CUDA starts before sockets close


def scrubbed_env(
    device: str,
    secret_env_names: Iterable[str],
    base: dict[str, str] | None = None,
    memory_headroom_bytes: int | None = None,
    rss_limit_bytes: int | None = None,
) -> dict[str, str]:
    """The worker's environment: no secrets, the interpreter on CPU, this package importable."""
    named = set(secret_env_names)
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if k not in named and not any(m in k.upper() for m in SECRET_MARKERS)
    }
    if device.split(":", 1)[0] == "cpu":  # cpu or a cpu:N slot
        env["TRITON_INTERPRET"] = "1"
        if memory_headroom_bytes:
            env[MEMORY_ENV] = str(memory_headroom_bytes)
    else:
        env.pop("TRITON_INTERPRET", None)
        env[DEVICE_ENV] = device
    if rss_limit_bytes:
        env[RSS_LIMIT_ENV] = str(rss_limit_bytes)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + path if path else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class WorkerStartError(Exception):
    """The worker did not come up; the message says why."""


class WorkerProcess:
    """A running ``python -m verifier.worker``; ``run`` one job at a time.

    Another module speaking the same protocol (a nonce line, a ready reply, one JSON line
    each way per message) can be started with ``module`` and talked to with ``ask``."""

    def __init__(self, proc: asyncio.subprocess.Process, root: Path, nonce: str) -> None:
        self.proc = proc
        self.root = root
        self.nonce = nonce
        self.jobs_run = 0
        self.start_s = 0.0  # spawn to ready: charged to the first job's time breakdown
        self.sandbox: dict[str, Any] = {}  # the worker's SandboxReport, from its ready line

    @classmethod
    async def start(
        cls, env: dict[str, str], startup_timeout_s: float, module: str = "verifier.worker"
    ) -> WorkerProcess:
        spawned = time.monotonic()
        root = Path(tempfile.mkdtemp(prefix="aikg-worker-"))
        work = root / "work"
        work.mkdir()
        log = open(root / "worker.log", "wb")  # noqa: SIM115 (the child holds it)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                cwd=work,
                env=env,
                start_new_session=True,
                limit=READ_LIMIT,
            )
        finally:
            log.close()
        nonce = secrets.token_hex(16)
        worker = cls(proc, root, nonce)
        try:
            await worker._write(nonce)
            reply = await worker._read(startup_timeout_s)
        except (asyncio.TimeoutError, ConnectionError) as exc:
            reply = {"error": repr(exc)}
        if reply is None or not reply.get("ready"):
            tail = worker.log_tail()
            await worker.kill()
            raise WorkerStartError(f"verifier worker failed to start: {tail or reply}")
        worker.sandbox = dict(reply.get("sandbox") or {})
        worker.start_s = time.monotonic() - spawned
        return worker

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    def log_tail(self, n_chars: int = 800) -> str:
        try:
            text = (self.root / "worker.log").read_bytes()[-n_chars:].decode(errors="replace")
        except OSError:
            return ""
        return " | ".join(line for line in text.strip().splitlines()[-6:])

    async def _write(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def _read(self, timeout_s: float) -> dict[str, Any] | None:
        """The next reply carrying our nonce; None at end of stream."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise asyncio.TimeoutError
            line = await asyncio.wait_for(self.proc.stdout.readline(), remaining)
            if not line:
                return None
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("nonce") == self.nonce:
                return message

    async def ask(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one message; its reply, or None when the process ended (TimeoutError when
        none came within ``timeout_s``)."""
        try:
            await self._write(json.dumps(message))
        except (ConnectionError, BrokenPipeError):
            return None
        return await self._read(timeout_s)

    async def run(
        self, job: VerifyJob, gate: DeviceGate | None = None
    ) -> tuple[VerifyResult, bool]:
        """(result, worker must be replaced). The job's requests for ``gate`` (a private one
        when None) are granted here, and its hold is released however the job ends; time
        spent waiting for the gate does not count against ``job.timeout_s``."""
        started = time.monotonic()
        self.jobs_run += 1
        hold = GateHold(gate or DeviceGate())
        try:
            await self._write(json.dumps(job.to_dict()))
            reply = await self._serve_gate(hold, job.timeout_s)
        except asyncio.TimeoutError:
            await self.kill()
            message = (
                f"no result within the {job.timeout_s:g} s timeout (a hang or an endless "
                "loop?); the worker was killed"
            )
            return VerifyResult.failure(
                "timeout", message, duration_s=time.monotonic() - started
            ), True
        except (ConnectionError, BrokenPipeError):
            reply = None
        finally:
            hold.release()
        if reply is None or "result" not in reply:
            return await self._crashed(started), True
        result = VerifyResult.from_dict(reply["result"])
        if self.jobs_run == 1 and result.breakdown is not None:
            breakdown = replace(result.breakdown, worker_start_s=self.start_s)
            result = replace(result, breakdown=breakdown)
        return result, bool(reply.get("recycle"))

    async def _serve_gate(self, hold: GateHold, timeout_s: float) -> dict[str, Any] | None:
        """Grants the job's gate requests until its final reply (None: the worker ended or
        asked for a mode that does not exist)."""
        deadline = time.monotonic() + timeout_s
        while True:
            reply = await self._read(deadline - time.monotonic())
            if reply is None or "gate" not in reply:
                return reply
            mode = reply["gate"]
            if mode not in MODES:
                return None
            deadline += await hold.switch(mode)
            await self._write(json.dumps({"gate": mode}))

    async def _crashed(self, started: float) -> VerifyResult:
        try:
            code = await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            code = None
        tail = self.log_tail()
        await self.kill()
        if code is not None and code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with code {code}"
        message = f"the worker process died while running the candidate ({how})"
        if tail:
            message += f"; last output: {tail}"
        return VerifyResult.failure("crash", message, duration_s=time.monotonic() - started)

    async def kill(self) -> None:
        """Kills the whole process group and removes the private directory."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        shutil.rmtree(self.root, ignore_errors=True)

    async def close(self) -> None:
        """Asks the worker to finish, then kills its group anyway (no strays survive)."""
        if self.alive and self.proc.stdin is not None:
            self.proc.stdin.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 2)
        await self.kill()
