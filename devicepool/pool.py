"""Async, FIFO-fair leases of devices (`cpu`, `cpu:N`, `cuda:N`, `ascend:N`) to tasks."""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

KINDS = ("cpu", "cuda", "ascend")


class DevicePoolError(ValueError):
    """A device list that cannot be used; the message names the fix."""


def device_kind(device: str) -> str:
    return device.split(":", 1)[0]


def parse_devices(spec: str | Sequence[str]) -> list[str]:
    """`"cuda:0,cuda:1"` or a list -> validated device names, order kept, no duplicates."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    devices: list[str] = []
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        kind, _, index = name.partition(":")
        if kind not in KINDS or (index and not index.isdigit()) or (kind != "cpu" and not index):
            raise DevicePoolError(
                f"bad device {name!r}: use cpu, cpu:N, cuda:N or ascend:N (e.g. cuda:0,cuda:1)"
            )
        if name in devices:
            raise DevicePoolError(f"device {name!r} listed twice")
        devices.append(name)
    if not devices:
        raise DevicePoolError("no devices given: use e.g. cpu or cuda:0,cuda:1")
    return devices


@dataclass
class Lease:
    device: str
    holder: str
    since: float = field(default_factory=time.time)


@dataclass
class _Waiter:
    kind: str
    holder: str
    future: asyncio.Future[str]


LeaseListener = Callable[[str, Lease], None]  # ("leased" | "released", lease)


class DevicePool:
    """Devices shared by many tasks. `async with pool.lease(holder, kind) as device:`."""

    def __init__(self, devices: str | Sequence[str] | None = None, *, capacity: int = 1) -> None:
        if devices is None:
            devices = os.environ.get("AIKG_DEVICES") or "cpu"
        if capacity < 1:
            raise DevicePoolError(f"capacity must be at least 1, got {capacity}")
        self.devices = parse_devices(devices)
        self.capacity = capacity
        self._leases: dict[str, list[Lease]] = {d: [] for d in self.devices}
        self._waiters: deque[_Waiter] = deque()
        self._listeners: list[LeaseListener] = []

    def __repr__(self) -> str:
        return f"DevicePool({','.join(self.devices)}, capacity={self.capacity})"

    def kinds(self) -> set[str]:
        return {device_kind(d) for d in self.devices}

    def subscribe(self, listener: LeaseListener) -> None:
        self._listeners.append(listener)

    def occupancy(self) -> dict[str, list[Lease]]:
        return {d: list(held) for d, held in self._leases.items()}

    @property
    def queue_length(self) -> int:
        return len(self._waiters)

    @asynccontextmanager
    async def lease(self, holder: str, kind: str = "cpu") -> AsyncIterator[str]:
        """Wait (FIFO among waiters) for a free device of `kind`; always released."""
        if kind not in self.kinds():
            raise DevicePoolError(
                f"no {kind} device in this pool ({', '.join(self.devices)}): "
                f"pass --devices with a {kind} device"
            )
        device = await self._acquire(holder, kind)
        lease = self._leases[device][-1]
        try:
            yield device
        finally:
            self._release(lease)

    async def _acquire(self, holder: str, kind: str) -> str:
        free = self._free_device(kind)
        if free is not None and not any(w.kind == kind for w in self._waiters):
            self._grant(free, holder)
            return free
        waiter = _Waiter(kind, holder, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.future.done() and not waiter.future.cancelled():
                # granted just as we were cancelled: hand the device back
                self._release(self._leases[waiter.future.result()][-1])
            raise

    def _free_device(self, kind: str) -> str | None:
        candidates = [
            d
            for d in self.devices
            if device_kind(d) == kind and len(self._leases[d]) < self.capacity
        ]
        return min(candidates, key=lambda d: len(self._leases[d]), default=None)

    def _grant(self, device: str, holder: str) -> None:
        lease = Lease(device, holder)
        self._leases[device].append(lease)
        self._notify("leased", lease)

    def _release(self, lease: Lease) -> None:
        held = self._leases[lease.device]
        if lease in held:
            held.remove(lease)
            self._notify("released", lease)
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        for waiter in list(self._waiters):
            device = self._free_device(waiter.kind)
            if device is None:
                continue
            self._waiters.remove(waiter)
            self._grant(device, waiter.holder)
            waiter.future.set_result(device)

    def _notify(self, what: str, lease: Lease) -> None:
        for listener in self._listeners:
            listener(what, lease)
