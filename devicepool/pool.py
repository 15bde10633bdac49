"""Async, FIFO-fair leases of devices (`cpu`, `cpu:N`, `cuda:N`, `ascend:N`) to tasks.

A device takes up to `capacity` leases at once. A holder that asks with `share=N` may put
up to N of its own jobs on one lease (a search round's candidates of one task, verified side
by side: docs/search.md) when no place is free; other holders see one lease. A lease may time out
(`LeaseTimeout`). A device whose verifications fail `quarantine_after` times in a row
(reported with `report_failure`, reset by `report_success`) is quarantined: it gets no
new leases, unless it is the last healthy device of its kind. Listeners hear every
lease, release and quarantine, synchronously, on the pool's event loop.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

KINDS = ("cpu", "cuda", "ascend")
INFRASTRUCTURE_STAGES = ("crash", "timeout")  # verify stages counted against the device


class DevicePoolError(ValueError):
    """A device list that cannot be used; the message names the fix."""


class LeaseTimeout(DevicePoolError):
    """No device of the kind came free in time."""


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
    slot: int = 0  # which of the device's `capacity` places this lease holds
    jobs: int = 1  # the holder's jobs on this place at once (up to the `share` they asked)


@dataclass
class Quarantine:
    device: str
    reason: str
    failures: int
    since: float = field(default_factory=time.time)


@dataclass
class _Waiter:
    kind: str
    holder: str
    share: int
    future: asyncio.Future[Lease]


# ("leased" | "released", Lease) or ("quarantined", Quarantine)
LeaseListener = Callable[[str, "Lease | Quarantine"], None]


class DevicePool:
    """Devices shared by many tasks. `async with pool.lease(holder, kind) as device:`."""

    def __init__(
        self,
        devices: str | Sequence[str] | None = None,
        *,
        capacity: int = 1,
        lease_timeout_s: float | None = None,
        quarantine_after: int = 3,
    ) -> None:
        if devices is None:
            devices = os.environ.get("AIKG_DEVICES") or "cpu"
        if capacity < 1:
            raise DevicePoolError(f"capacity must be at least 1, got {capacity}")
        if quarantine_after < 1:
            raise DevicePoolError(f"quarantine_after must be at least 1, got {quarantine_after}")
        self.devices = parse_devices(devices)
        self.capacity = capacity
        self.lease_timeout_s = lease_timeout_s
        self.quarantine_after = quarantine_after
        self.quarantined: dict[str, Quarantine] = {}
        self._failures: dict[str, int] = {d: 0 for d in self.devices}
        self._leases: dict[str, list[Lease]] = {d: [] for d in self.devices}
        self._waiters: deque[_Waiter] = deque()
        self._listeners: list[LeaseListener] = []

    @classmethod
    def detect(cls, kind: str, **options: object) -> DevicePool:
        """Every device of `kind` this machine has (see `devicepool.detect`)."""
        from devicepool.detect import detect_devices

        devices = detect_devices(kind)
        if not devices:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            hint = (
                f" (CUDA_VISIBLE_DEVICES={visible!r})"
                if kind == "cuda" and visible is not None
                else ""
            )
            raise DevicePoolError(
                f"no {kind} device found on this machine{hint}: pass --devices, e.g. cpu"
            )
        return cls(devices, **options)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"DevicePool({','.join(self.devices)}, capacity={self.capacity})"

    def kinds(self) -> set[str]:
        return {device_kind(d) for d in self.devices}

    def subscribe(self, listener: LeaseListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: LeaseListener) -> None:
        self._listeners.remove(listener)

    def occupancy(self) -> dict[str, list[Lease]]:
        return {d: list(held) for d, held in self._leases.items()}

    @property
    def queue_length(self) -> int:
        return len(self._waiters)

    @asynccontextmanager
    async def lease(
        self, holder: str, kind: str = "cpu", timeout: float | None = None, share: int = 1
    ) -> AsyncIterator[str]:
        """Wait (FIFO among waiters) for a free device of `kind`; always released.

        `timeout` (default: the pool's `lease_timeout_s`; None waits for ever) bounds the
        wait; past it `LeaseTimeout` is raised and the holder leaves the queue. `share`: with
        no place free, join a lease `holder` already has that carries fewer than `share` jobs.
        """
        if kind not in self.kinds():
            raise DevicePoolError(
                f"no {kind} device in this pool ({', '.join(self.devices)}): "
                f"pass --devices with a {kind} device"
            )
        limit = self.lease_timeout_s if timeout is None else timeout
        try:
            lease = await asyncio.wait_for(self._acquire(holder, kind, share), limit)
        except asyncio.TimeoutError:
            raise LeaseTimeout(
                f"{holder}: no {kind} device came free in {limit:g}s "
                f"({self._held_count(kind)} leases held, {self.queue_length} waiting): "
                "raise devicepool.lease_timeout_s or add devices"
            ) from None
        try:
            yield lease.device
        finally:
            self._release(lease)

    def slot_of(self, device: str, holder: str) -> int:
        """The place `holder` occupies on `device` (0 up to capacity-1)."""
        return next((le.slot for le in self._leases[device] if le.holder == holder), 0)

    # --- health ---------------------------------------------------------------------------

    def report_result(self, device: str, stage: str | None, message: str = "") -> bool:
        """Count a verification's outcome on `device`; True when it was just quarantined."""
        if stage in INFRASTRUCTURE_STAGES:
            return self.report_failure(device, f"{stage}: {message}".strip(": "))
        self.report_success(device)
        return False

    def report_success(self, device: str) -> None:
        self._failures[device] = 0

    def report_failure(self, device: str, reason: str) -> bool:
        """One more failure in a row; quarantine at `quarantine_after` unless it is the last."""
        self._failures[device] += 1
        failures = self._failures[device]
        if device in self.quarantined or failures < self.quarantine_after:
            return False
        kind = device_kind(device)
        healthy = [d for d in self.devices if device_kind(d) == kind and d not in self.quarantined]
        if healthy == [device]:
            return False
        quarantine = Quarantine(device, reason, failures)
        self.quarantined[device] = quarantine
        self._notify("quarantined", quarantine)
        return True

    # --- internals ------------------------------------------------------------------------

    def _held_count(self, kind: str) -> int:
        return sum(len(h) for d, h in self._leases.items() if device_kind(d) == kind)

    async def _acquire(self, holder: str, kind: str, share: int) -> Lease:
        free = self._free_device(kind)
        if free is not None and not any(w.kind == kind for w in self._waiters):
            return self._grant(free, holder)
        joined = self._join(holder, kind, share)  # takes no place another holder waits for
        if joined is not None:
            return joined
        waiter = _Waiter(kind, holder, share, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.future.done() and not waiter.future.cancelled():
                # granted just as we were cancelled: hand the device back
                self._release(waiter.future.result())
            raise

    def _free_device(self, kind: str) -> str | None:
        candidates = [
            d
            for d in self.devices
            if device_kind(d) == kind
            and d not in self.quarantined
            and len(self._leases[d]) < self.capacity
        ]
        return min(candidates, key=lambda d: len(self._leases[d]), default=None)

    def _join(self, holder: str, kind: str, share: int) -> Lease | None:
        """One more job on a lease `holder` holds of `kind`, if one carries fewer than `share`."""
        held = [
            le
            for d, leases in self._leases.items()
            if device_kind(d) == kind and d not in self.quarantined
            for le in leases
            if le.holder == holder and le.jobs < share
        ]
        lease = min(held, key=lambda le: le.jobs, default=None)
        if lease is not None:
            lease.jobs += 1
        return lease

    def _grant(self, device: str, holder: str) -> Lease:
        taken = {held.slot for held in self._leases[device]}
        slot = next(i for i in range(len(taken) + 1) if i not in taken)
        lease = Lease(device, holder, slot=slot)
        self._leases[device].append(lease)
        self._notify("leased", lease)
        return lease

    def _release(self, lease: Lease) -> None:
        lease.jobs -= 1
        held = self._leases[lease.device]
        index = next((i for i, le in enumerate(held) if le is lease), None)
        if index is not None and lease.jobs == 0:
            del held[index]
            self._notify("released", lease)
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        for waiter in list(self._waiters):
            if waiter.future.done():  # cancelled; its task removes it when it runs
                continue
            device = self._free_device(waiter.kind)
            lease = (
                self._grant(device, waiter.holder)
                if device is not None
                else self._join(waiter.holder, waiter.kind, waiter.share)
            )
            if lease is None:
                continue
            self._waiters.remove(waiter)
            waiter.future.set_result(lease)

    def _notify(self, what: str, info: Lease | Quarantine) -> None:
        for listener in self._listeners:
            listener(what, info)
