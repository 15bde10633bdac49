"""One shared verifier per process: tasks running side by side reuse its warm workers.

`shared_service` is the refcounted sharing itself, for anything with `async close()`
(the local and the Ray verifier, the built-in agent's helper process)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from verifier import Verifier

_shared: dict[str, tuple[Any, int]] = {}


@asynccontextmanager
async def shared_service(key: str, make: Callable[[], Any]) -> AsyncIterator[Any]:
    """Borrow the process's service under `key` (`make` builds it for the first borrower);
    the last borrower closes it."""
    verifier, users = _shared.get(key, (None, 0))
    if verifier is None:
        verifier = make()
    _shared[key] = (verifier, users + 1)
    try:
        yield verifier
    finally:
        verifier, users = _shared[key]
        if users <= 1:
            del _shared[key]
            await verifier.close()
        else:
            _shared[key] = (verifier, users - 1)


def verifier_session(
    mode: str,
    secret_env_names: Iterable[str] = (),
    memory_headroom_gib: float = 4.0,
    sandbox: str = "auto",
    workers_per_device: int | str = "auto",
) -> AbstractAsyncContextManager[Verifier]:
    """Borrow the process's local verifier for `mode` (warm or oneshot) whose CPU workers
    may map `memory_headroom_gib` beyond torch and Triton, running up to
    `workers_per_device` jobs of one device at once (timing alone: docs/verifier.md)."""
    names = tuple(secret_env_names)
    headroom = int(memory_headroom_gib * 2**30)
    return shared_service(
        f"local:{mode}:{headroom}:{sandbox}:{workers_per_device}",
        lambda: Verifier(
            mode=mode,
            secret_env_names=names,
            cpu_memory_headroom_bytes=headroom,
            sandbox=sandbox,
            workers_per_device=workers_per_device,
        ),
    )


def job_device(device: str) -> str:
    """A pool device name as torch names it inside the worker.

    `cpu:N` slots stay distinct (torch ignores a CPU index), so each gets its own worker
    and CPU verifications run side by side."""
    kind, _, index = device.partition(":")
    if kind == "ascend":
        return f"npu:{index or 0}"
    return device
