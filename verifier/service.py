"""``Verifier``: the async front door. Warm mode keeps up to ``workers_per_device`` workers
per device (jobs beyond them wait) and replaces one after a crash, a timeout, a device error
or a memory blow-up; one-shot mode spawns a fresh worker per job, as many at once. Jobs of
one device share its ``DeviceGate``: they load and compile side by side, never run beside a
timing (verifier/device_gate.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from verifier.device_gate import DeviceGate
from verifier.process import WorkerProcess, WorkerStartError, scrubbed_env
from verifier.result import VerifyJob, VerifyResult
from verifier.reverify import after_reverification, needs_reverification
from verifier.sandbox import SandboxReport, plan
from verifier.sandbox_worker import SANDBOX_ENV
from verifier.static_check import check_source
from verifier.worker_pool import WorkerPool

MODES = ("warm", "oneshot")
DEFAULT_CPU_HEADROOM = 4 << 30
DEFAULT_RSS_LIMIT = 16 << 30
WORKERS_PER_GPU, WORKERS_PER_CPU = 1, 2  # "auto" (docs/verifier.md, "Several jobs on one device")


def workers_for(setting: int | str | None, device: str) -> int:
    """How many jobs of ``device`` run at once: ``setting`` when it is a number; "auto" (or
    None) is one on a GPU, where a second worker made every profile-mode run slower on an
    H200 (most likely: each worker times and compiles the baselines again), two on the CPU."""
    if setting is None or setting == "auto":
        return WORKERS_PER_GPU if device.startswith("cuda") else WORKERS_PER_CPU
    if isinstance(setting, str) or setting < 1:
        raise ValueError(f"workers_per_device must be at least 1 or auto, got {setting!r}")
    return setting


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
        workers_per_device: int | str | None = "auto",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown verifier mode {mode!r}; use one of {', '.join(MODES)}")
        workers_for(workers_per_device, "cpu")  # a bad setting fails here, not at a job
        self.mode = mode
        self.secret_env_names = tuple(secret_env_names)
        self.startup_timeout_s = startup_timeout_s
        self.cpu_memory_headroom_bytes = cpu_memory_headroom_bytes
        self.rss_limit_bytes = rss_limit_bytes
        plan(sandbox)  # SandboxError now (an unknown mode, landlock missing), not at a job
        self.sandbox = sandbox
        self.sandbox_report: SandboxReport | None = None  # from the latest worker to start
        self.workers_per_device = workers_per_device
        self._pools: dict[str, WorkerPool] = {}  # by job.worker or device
        self._gates: dict[str, DeviceGate] = {}  # by device
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
        """An idle warm worker's pid for ``device`` or a ``job.worker`` name (None when
        none is running)."""
        pool = self._pools.get(device)
        return next(iter(pool.idle_pids()), None) if pool is not None else None

    def _pool(self, key: str, device: str) -> WorkerPool:
        if key not in self._pools:
            count = workers_for(self.workers_per_device, device)
            self._pools[key] = WorkerPool(count, lambda: self._start(device))
        return self._pools[key]

    async def verify(self, job: VerifyJob) -> VerifyResult:
        started = time.monotonic()
        findings = check_source(job.candidate_source)
        if findings:
            text = "; ".join(str(f) for f in findings[:8])
            return VerifyResult.failure(
                "static", f"static check failed: {text}", duration_s=time.monotonic() - started
            )
        # several pools share a device when the DevicePool's capacity is above 1
        pool = self._pool(job.worker or job.device, job.device)
        async with pool.turn():
            try:
                if self.mode == "oneshot":
                    result = await self._oneshot(job)
                else:
                    result = await self._warm(job, pool)
                if needs_reverification(result):
                    result = after_reverification(result, await self._oneshot(job))
                return result
            except WorkerStartError as exc:
                return VerifyResult.failure(
                    "crash", str(exc), duration_s=time.monotonic() - started
                )

    def _gate(self, device: str) -> DeviceGate:
        return self._gates.setdefault(device, DeviceGate())

    async def _oneshot(self, job: VerifyJob) -> VerifyResult:
        worker = await self._start(job.device)
        try:
            result, _ = await worker.run(job, self._gate(job.device))
        finally:
            await worker.close()
        return result

    async def _warm(self, job: VerifyJob, pool: WorkerPool) -> VerifyResult:
        worker = await pool.take(job.reference_source)
        try:
            result, recycle = await worker.run(job, self._gate(job.device))
        except BaseException:
            await pool.retire(worker)
            raise
        if recycle or not worker.alive:
            await pool.retire(worker)
        else:
            pool.give_back(worker)
        return result

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()

    async def __aenter__(self) -> Verifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
