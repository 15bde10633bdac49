"""Who may use a device now: the verifier's per-device gate, held by the parent process.

Several workers of one device run jobs at once (``Verifier(workers_per_device=N)``). Each
job tells the parent, through the worker protocol, which of three modes its next phase
needs, and the parent's ``DeviceGate`` of that device grants it:

- ``free``: nothing on the device that another job could feel (static checks, loading the
  task and candidate modules, compiling the candidate's kernels ahead);
- ``shared``: correctness work on the device (building models, inputs, the reference, the
  trials); any number of jobs at once, but never beside a timing;
- ``exclusive``: profile-mode timing; nothing else of any job on the device meanwhile.

Waiters are served first come, first served, so a job waiting for ``exclusive`` holds back
later ``shared`` requests and timing is never starved. The gate lives in the parent, so a
worker that dies or hangs cannot keep it: the parent releases a job's hold whenever the
job ends, by a result, a crash or the timeout that killed it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

MODES = ("free", "shared", "exclusive")


@dataclass
class _Waiter:
    mode: str
    future: asyncio.Future[None]


class DeviceGate:
    """A first-come-first-served readers-writer lock: ``shared`` holders or one ``exclusive``."""

    def __init__(self) -> None:
        self.shared = 0
        self.exclusive = False
        self._waiters: deque[_Waiter] = deque()

    def _fits(self, mode: str) -> bool:
        if mode == "exclusive":
            return not self.exclusive and self.shared == 0
        return not self.exclusive

    def _take(self, mode: str) -> None:
        if mode == "exclusive":
            self.exclusive = True
        else:
            self.shared += 1

    async def acquire(self, mode: str) -> None:
        """Waits until ``mode`` (shared or exclusive) can be held, behind earlier waiters."""
        if not self._waiters and self._fits(mode):
            self._take(mode)
            return
        waiter = _Waiter(mode, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                self._wake()
            elif waiter.future.done() and not waiter.future.cancelled():
                self.release(mode)  # granted just as we were cancelled: hand it back
            raise

    def release(self, mode: str) -> None:
        if mode == "exclusive":
            self.exclusive = False
        elif self.shared > 0:
            self.shared -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._fits(self._waiters[0].mode):
            waiter = self._waiters.popleft()
            if waiter.future.done():  # cancelled; nothing to grant
                continue
            self._take(waiter.mode)
            waiter.future.set_result(None)


class GateHold:
    """One job's place at a gate: the mode it holds now (``free`` at first).

    ``exclusive`` is kept until the job ends (``release``): timing is a job's last phase,
    and a candidate that spoke the protocol itself must not let another job onto the
    device while its baselines are timed."""

    def __init__(self, gate: DeviceGate) -> None:
        self.gate = gate
        self.mode = "free"

    async def switch(self, mode: str) -> float:
        """Gives up the current mode and waits for ``mode``; returns the seconds waited."""
        if mode not in MODES:
            raise ValueError(f"unknown device gate mode {mode!r}; use one of {', '.join(MODES)}")
        if mode == self.mode or self.mode == "exclusive":
            return 0.0
        self.release()
        if mode == "free":
            return 0.0
        started = time.monotonic()
        await self.gate.acquire(mode)
        self.mode = mode
        return time.monotonic() - started

    def release(self) -> None:
        if self.mode != "free":
            self.gate.release(self.mode)
            self.mode = "free"
