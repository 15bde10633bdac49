"""``Verifier``: the async front door. Warm mode keeps one worker per device and replaces it
after a crash, a timeout, a device error or a memory blow-up; one-shot mode spawns a fresh
worker per job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from verifier.process import WorkerProcess, WorkerStartError, scrubbed_env
from verifier.result import VerifyJob, VerifyResult
from verifier.reverify import after_reverification, needs_reverification
from verifier.sandbox import SandboxReport, plan
from verifier.sandbox_worker import SANDBOX_ENV
from verifier.static_check import check_source

MODES = ("warm", "oneshot")
DEFAULT_CPU_HEADROOM = 4 << 30
DEFAULT_RSS_LIMIT = 16 << 30


def verify_in_process(job: VerifyJob) -> VerifyResult:
    """Runs a job in this process (no isolation; torch is imported on first use)."""
    from verifier.child import verify_in_process as run

    return run(job)


class Verifier:
    def __init__(
        self,
        mode: str = "warm",
        secret_env_names: Iterable[str] = (),
        startup_timeout_s: float = 180.0,
        cpu_memory_headroom_bytes: int = DEFAULT_CPU_HEADROOM,
        rss_limit_bytes: int = DEFAULT_RSS_LIMIT,
        sandbox: str = "auto",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown verifier mode {mode!r}; use one of {', '.join(MODES)}")
        self.mode = mode
        self.secret_env_names = tuple(secret_env_names)
        self.startup_timeout_s = startup_timeout_s
        self.cpu_memory_headroom_bytes = cpu_memory_headroom_bytes
        self.rss_limit_bytes = rss_limit_bytes
        plan(sandbox)  # SandboxError now (an unknown mode, landlock missing), not at a job
        self.sandbox = sandbox
        self.sandbox_report: SandboxReport | None = None  # from the latest worker to start
        self._workers: dict[str, WorkerProcess] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.workers_started = 0

    def _env(self, device: str) -> dict[str, str]:
        env = scrubbed_env(
            device,
            self.secret_env_names,
            memory_headroom_bytes=self.cpu_memory_headroom_bytes,
            rss_limit_bytes=self.rss_limit_bytes,
        )
        return {**env, SANDBOX_ENV: self.sandbox}

    async def _start(self, device: str) -> WorkerProcess:
        worker = await WorkerProcess.start(self._env(device), self.startup_timeout_s)
        self.workers_started += 1
        self.sandbox_report = SandboxReport.from_dict(worker.sandbox)
        return worker

    def worker_pid(self, device: str) -> int | None:
        """The warm worker's pid for ``device`` (None when none is running)."""
        worker = self._workers.get(device)
        return worker.proc.pid if worker is not None and worker.alive else None

    async def verify(self, job: VerifyJob) -> VerifyResult:
        started = time.monotonic()
        findings = check_source(job.candidate_source)
        if findings:
            text = "; ".join(str(f) for f in findings[:8])
            return VerifyResult.failure(
                "static", f"static check failed: {text}", duration_s=time.monotonic() - started
            )
        lock = self._locks.setdefault(job.worker or job.device, asyncio.Lock())
        async with lock:
            try:
                run = self._oneshot if self.mode == "oneshot" else self._warm
                result = await run(job)
                if needs_reverification(result):
                    result = after_reverification(result, await self._oneshot(job))
                return result
            except WorkerStartError as exc:
                return VerifyResult.failure(
                    "crash", str(exc), duration_s=time.monotonic() - started
                )

    async def _oneshot(self, job: VerifyJob) -> VerifyResult:
        worker = await self._start(job.device)
        try:
            result, _ = await worker.run(job)
        finally:
            await worker.close()
        return result

    async def _warm(self, job: VerifyJob) -> VerifyResult:
        key = job.worker or job.device  # several workers share a device with capacity > 1
        worker = self._workers.get(key)
        if worker is None or not worker.alive:
            worker = await self._start(job.device)
            self._workers[key] = worker
        try:
            result, recycle = await worker.run(job)
        except BaseException:
            await self._retire(key)
            raise
        if recycle or not worker.alive:
            await self._retire(key)
        return result

    async def _retire(self, device: str) -> None:
        worker = self._workers.pop(device, None)
        if worker is not None:
            await worker.kill()

    async def close(self) -> None:
        workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            await worker.close()

    async def __aenter__(self) -> Verifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
