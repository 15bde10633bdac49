"""A search round's candidates of one task verified side by side on the device pool.

Every node asks for a lease with `share=verifier.workers_per_device`: a free place of the
task's kind if there is one, else a place the task already holds, up to that many of its jobs
on it. Jobs on one device pass its gate together (docs/verifier.md): one loads and compiles
while another's trials run, and timing runs alone. Other tasks still count places, so
`devicepool.capacity` keeps its meaning between tasks.

A node's `device.leased`, `verify.finished` and `device.released` are appended together once
its result is in, in node order, so the log is the same however the jobs interleave, and a
crash leaves no lease open: the nodes it cut off are verified again on resume.
"""

from __future__ import annotations

import asyncio
import time

from machine import events as ev
from machine.verify_step import VerifyingRun, verify_leased
from verifier.service import workers_for


async def verify_side_by_side(run: VerifyingRun, candidates: list[tuple[int, str]]) -> None:
    """Verify each `(step, code)` at once; record their results in the order given."""
    recorded = [asyncio.Event() for _ in candidates]

    async def verify(index: int, step: int, code: str) -> None:
        spec = run.spec
        share = workers_for(run.config.verifier.workers_per_device, spec.backend)
        try:
            async with run.device_pool.lease(spec.task_id, spec.backend, share=share) as device:
                since = time.monotonic()
                result = await verify_leased(run, device, code)
                held = round(time.monotonic() - since, 3)
            if index:
                await recorded[index - 1].wait()
            await run.recorder.append(
                ev.DeviceLeased(step, device),
                ev.VerifyFinished(step, device, result),
                ev.DeviceReleased(step, device, held),
            )
        finally:
            recorded[index].set()

    await asyncio.gather(*(verify(i, step, code) for i, (step, code) in enumerate(candidates)))
