"""Leases of devices to tasks."""

from devicepool.pool import DevicePool, DevicePoolError, Lease, device_kind, parse_devices

__all__ = ["DevicePool", "DevicePoolError", "Lease", "device_kind", "parse_devices"]
