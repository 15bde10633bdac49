"""The warm workers of one device: up to ``size`` jobs at once, each in its own worker.

A job takes an idle worker (or starts one while fewer than ``size`` exist), preferring the
one that last ran a job of the same task (its reference outputs and baseline timings are
cached there), and gives it back when done; a worker whose state may be damaged is killed
instead, and its place goes to a fresh one at the next job. Each worker is its own process
with its own private folder and Triton cache, so no candidate can plant compiled kernels
for another."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from verifier.process import WorkerProcess


class WorkerPool:
    def __init__(self, size: int, start: Callable[[], Awaitable[WorkerProcess]]) -> None:
        self._turns = asyncio.Semaphore(size)
        self._start = start
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._last_task: dict[WorkerProcess, str] = {}

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """One of the ``size`` places; jobs beyond them wait here."""
        async with self._turns:
            yield

    async def take(self, task: str) -> WorkerProcess:
        """An idle live worker, the one that last ran ``task`` first, or a new one (call
        inside ``turn``)."""
        self._idle.sort(key=lambda w: self._last_task.get(w) == task)
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                self._busy.add(worker)
                self._last_task[worker] = task
                return worker
            await self.retire(worker)
        worker = await self._start()
        self._busy.add(worker)
        self._last_task[worker] = task
        return worker

    def give_back(self, worker: WorkerProcess) -> None:
        self._busy.discard(worker)
        self._idle.append(worker)

    async def retire(self, worker: WorkerProcess) -> None:
        """Kills a worker whose state may be damaged; the next job starts a fresh one."""
        self._busy.discard(worker)
        self._last_task.pop(worker, None)
        await worker.kill()

    def idle_pids(self) -> list[int]:
        return [w.proc.pid for w in self._idle if w.alive]

    async def close(self) -> None:
        workers = [*self._idle, *self._busy]
        self._idle, self._busy, self._last_task = [], set(), {}
        for worker in workers:
            await worker.close()
