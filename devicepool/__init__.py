"""Leases of devices to tasks."""

from devicepool.detect import cpu_slots, detect_devices
from devicepool.pool import (
    INFRASTRUCTURE_STAGES,
    DevicePool,
    DevicePoolError,
    Lease,
    LeaseTimeout,
    Quarantine,
    device_kind,
    parse_devices,
)

__all__ = [
    "INFRASTRUCTURE_STAGES",
    "DevicePool",
    "DevicePoolError",
    "Lease",
    "LeaseTimeout",
    "Quarantine",
    "cpu_slots",
    "detect_devices",
    "device_kind",
    "parse_devices",
]
