"""One candidate verified on a leased device, its lease and result recorded: the work a
linear run's `verifying` state and each search node share.

It takes the run as a `VerifyingRun`, the few parts it reads, so it does not import the runner
that drives it (the runner and the search engine import this module)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from machine import events as ev
from machine.verification import job_device
from verifier.result import VerifyJob, VerifyResult

if TYPE_CHECKING:
    from devicepool import DevicePool
    from machine.config import Config
    from machine.recorder import Recorder
    from machine.spec import TaskSpec
    from verifier import Verifier


class VerifyingRun(Protocol):
    """What verifying a candidate reads of a task run (`machine.runner.TaskRun` has it)."""

    spec: TaskSpec
    config: Config
    device_pool: DevicePool
    recorder: Recorder
    verifier: Verifier


def uses_small_shapes(backend: str, shapes: str) -> bool:
    """`shapes: auto` runs small shapes where Triton is interpreted (the cpu backend)."""
    return shapes == "small" or (shapes == "auto" and backend == "cpu")


def verify_job(spec: TaskSpec, config: Config, code: str) -> VerifyJob:
    return VerifyJob(
        reference_source=spec.task_desc,
        candidate_source=code,
        framework=spec.framework,
        task_type=spec.task_type,
        trials=config.verifier.trials,
        timeout_s=config.verifier.timeout_s,
        # one seed for every step: each candidate meets the same inputs, so the warm
        # worker computes the reference's outputs once per task (docs/verifier.md)
        seed=0,
        small_shapes=uses_small_shapes(spec.backend, config.verifier.shapes),
        tolerances=dict(config.verifier.tolerances),
    )


async def verify_leased(run: VerifyingRun, device: str, code: str) -> VerifyResult:
    """Verify `code` on `device`, which the task holds a lease of; count the outcome against
    the device's health."""
    spec, pool = run.spec, run.device_pool
    job = verify_job(spec, run.config, code)
    slot = pool.slot_of(device, spec.task_id)
    worker = f"{device}#{slot}" if slot else None
    result = await run.verifier.verify(replace(job, device=job_device(device), worker=worker))
    pool.report_result(device, result.stage, result.message)
    return result


async def verify_on_device(run: VerifyingRun, step: int, code: str) -> None:
    """Lease a device, verify `code` there, record `verify.finished`, release the device."""
    spec, pool, recorder = run.spec, run.device_pool, run.recorder
    async with pool.lease(spec.task_id, spec.backend) as device:
        since = time.monotonic()
        try:
            await recorder.append(ev.DeviceLeased(step, device))
            result = await verify_leased(run, device, code)
            await recorder.append(ev.VerifyFinished(step, device, result))  # breakdown inside
        finally:
            held = round(time.monotonic() - since, 3)
            await recorder.append(ev.DeviceReleased(step, device, held))
