"""Verification on a Ray cluster: each job runs as a Ray task on any node.

The orchestrator and the event log stay in this process; only `VerifyJob`s (plain
dicts) travel. A job asks Ray for one GPU (`cuda`), one NPU (`ascend`) or one CPU
(`cpu`), plus any custom resources configured. Inside the Ray task the ordinary
one-shot `Verifier` runs it, so the candidate is still isolated in its own process.

A job lost to the cluster (its worker or node died) is resubmitted, up to `max_retries`
times; Ray then schedules it on a live node. Each loss is recorded in the result's
`retries` field (`RayVerifyResult`), which `verify.finished` stores with the result.
Ray is optional and imported only here, when a Ray verifier is asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from devicepool import DevicePoolError, device_kind
from machine.builtin_isolation import builtin_agent_session
from machine.verification import shared_service, verifier_session
from verifier.result import RayVerifyResult, VerifyJob, VerifyResult

if TYPE_CHECKING:
    from machine.config import Config

INSTALL_HINT = "pip install 'aikg[ray]'"


class RayError(DevicePoolError):
    """Ray is missing or the cluster cannot run jobs; the message names the fix."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayError(f"Ray is not installed: {INSTALL_HINT}") from None
    return ray


def job_requirements(kind: str, resources: dict[str, float]) -> dict[str, Any]:
    """Ray `.options()` for one job on a device of `kind`."""
    need: dict[str, Any] = {"num_cpus": 1, "num_gpus": 0, "resources": dict(resources)}
    if kind == "cuda":
        need["num_gpus"] = 1
    elif kind == "ascend":
        need["resources"]["NPU"] = 1
    return need


def cluster_slots(address: str | None, kind: str, resources: dict[str, float]) -> list[str]:
    """Pool device names, one per job the cluster can run at once for `kind`."""
    ray = connect(address)
    total = ray.cluster_resources()
    need = job_requirements(kind, resources)
    wanted = {"CPU": need["num_cpus"], "GPU": need["num_gpus"], **need["resources"]}
    counts = [int(total.get(name, 0) // amount) for name, amount in wanted.items() if amount]
    slots = min(counts, default=0)
    if slots < 1:
        raise RayError(
            f"the Ray cluster has no room for a {kind} job (needs {wanted}, has "
            f"{ {k: total[k] for k in sorted(total) if not k.startswith('node:')} }): "
            "add nodes with those resources or change devicepool.resources"
        )
    return [f"{kind}:{i}" for i in range(slots)]


def connect(address: str | None) -> Any:
    """Join the cluster at `address` once per process."""
    ray = import_ray()
    if not ray.is_initialized():
        try:
            ray.init(address=address or "auto", log_to_driver=False, logging_level="ERROR")
        except ConnectionError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RayError(
                f"cannot reach a Ray cluster at {address or 'auto'} ({first}): "
                "start one with `ray start --head` or pass --cluster HOST:PORT"
            ) from None
    return ray


def _run_job(
    job: dict[str, Any], secret_env_names: tuple[str, ...], sandbox: str
) -> dict[str, Any]:
    """The Ray task: verify one job with a one-shot worker process on this node (the worker
    confines itself; this Ray worker process, which talks to the cluster, stays outside)."""
    import ray

    from verifier import Verifier

    async def verify() -> VerifyResult:
        verifier = Verifier(mode="oneshot", secret_env_names=secret_env_names, sandbox=sandbox)
        try:
            return await verifier.verify(VerifyJob.from_dict(job))
        finally:
            await verifier.close()

    node = ray.get_runtime_context().get_node_id()
    return {"result": asyncio.run(verify()).to_dict(), "node": node}


class RayVerifier:
    """`verify(job)` / `close()` like `Verifier`, but the job runs on the cluster."""

    def __init__(
        self,
        address: str | None = None,
        *,
        resources: dict[str, float] | None = None,
        max_retries: int = 3,
        secret_env_names: Iterable[str] = (),
        schedule_timeout_s: float = 600.0,
        sandbox: str = "auto",
    ) -> None:
        self.ray = connect(address)
        self.resources = dict(resources or {})
        self.max_retries = max_retries
        self.secret_env_names = tuple(secret_env_names)
        self.schedule_timeout_s = schedule_timeout_s
        self.sandbox = sandbox
        self._remote = self.ray.remote(_run_job)

    async def verify(self, job: VerifyJob) -> RayVerifyResult:
        """Never raises for a bad candidate or a lost node: the result says what happened."""
        kind = device_kind(job.device)
        local = replace(job, device="cuda:0" if kind == "cuda" else job.device.split(":")[0])
        if kind == "ascend":
            local = replace(job, device="npu:0")
        task = self._remote.options(
            **job_requirements(kind, self.resources), max_retries=0, retry_exceptions=False
        )
        lost = self.ray.exceptions
        retries: list[dict[str, str]] = []
        limit = job.timeout_s + self.schedule_timeout_s
        for _ in range(self.max_retries + 1):
            ref = task.remote(local.to_dict(), self.secret_env_names, self.sandbox)
            try:
                out = await asyncio.wait_for(asyncio.wrap_future(ref.future()), limit)
            except asyncio.TimeoutError:
                self.ray.cancel(ref, force=True)
                return RayVerifyResult.failure(
                    "timeout", f"ray: no result in {limit:g}s (queued or stuck): see `ray status`"
                )
            except asyncio.CancelledError:
                self.ray.cancel(ref, force=True)
                raise
            except lost.RayTaskError as exc:
                return RayVerifyResult.failure("crash", f"ray task failed: {_first_line(exc)}")
            except (
                lost.WorkerCrashedError,
                lost.NodeDiedError,
                lost.ObjectLostError,
                lost.RaySystemError,
                lost.LocalRayletDiedError,
            ) as exc:
                retries.append({"error": type(exc).__name__, "message": _first_line(exc)})
                continue
            return RayVerifyResult(**out["result"], node=out["node"], retries=retries)
        return RayVerifyResult.failure(
            "crash",
            f"ray: the job was lost {len(retries)} times ({retries[-1]['error']}): "
            "check the cluster with `ray status`",
            retries=retries,
        )

    async def close(self) -> None:
        """Leaves the cluster running; this process stays connected until it exits."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


@asynccontextmanager
async def verification_session(
    config: Config, secret_env_names: Iterable[str] = ()
) -> AsyncIterator[Any]:
    """The verifier `config` asks for; while it is held, the built-in agent's helper process
    also stays warm for every task run under it (`aikg bench` runs them one by one)."""
    names = tuple(secret_env_names)
    async with (
        builtin_agent_session(names, config.verifier.sandbox),
        _configured_verifier(config, names) as verifier,
    ):
        yield verifier


@asynccontextmanager
async def _configured_verifier(
    config: Config, secret_env_names: Iterable[str]
) -> AsyncIterator[Any]:
    """The verifier `config` asks for: the process's local one, or a Ray one."""
    pool = config.devicepool
    if pool.kind != "ray":
        settings = config.verifier
        async with verifier_session(
            settings.mode,
            secret_env_names,
            settings.memory_headroom_gib,
            settings.sandbox,
            settings.workers_per_device,
        ) as verifier:
            yield verifier
        return
    names = tuple(secret_env_names)

    def make() -> RayVerifier:
        return RayVerifier(
            pool.address,
            resources=pool.resources,
            secret_env_names=names,
            sandbox=config.verifier.sandbox,
        )

    async with shared_service(f"ray:{pool.address or 'auto'}", make) as verifier:
        yield verifier
