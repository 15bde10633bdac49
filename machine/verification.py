"""One shared verifier per process: tasks running side by side reuse its warm workers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from verifier import Verifier

_shared: dict[str, tuple[Verifier, int]] = {}


@asynccontextmanager
async def verifier_session(
    mode: str, secret_env_names: Iterable[str] = ()
) -> AsyncIterator[Verifier]:
    """Borrow the process's verifier for `mode`; the last borrower closes it."""
    verifier, users = _shared.get(mode, (None, 0))
    if verifier is None:
        verifier = Verifier(mode=mode, secret_env_names=tuple(secret_env_names))
    _shared[mode] = (verifier, users + 1)
    try:
        yield verifier
    finally:
        verifier, users = _shared[mode]
        if users <= 1:
            del _shared[mode]
            await verifier.close()
        else:
            _shared[mode] = (verifier, users - 1)


def job_device(device: str) -> str:
    """A pool device name as torch names it inside the worker.

    `cpu:N` slots stay distinct (torch ignores a CPU index), so each gets its own worker
    and CPU verifications run side by side."""
    kind, _, index = device.partition(":")
    if kind == "ascend":
        return f"npu:{index or 0}"
    return device
