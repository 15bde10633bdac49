"""The Ray path on a real local cluster: a head and a second node on this machine, with a
custom `aikg_slot` resource standing in for GPUs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devicepool import DevicePool
from machine.ray_verification import RayVerifier, cluster_slots
from tests.devicepool.scripted import DOUBLE, good, make_task, sleeping
from verifier.result import RayVerifyResult, VerifyJob

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray")

SLOT = {"aikg_slot": 1.0}
FAST_HEALTH_CHECKS = '{"health_check_period_ms": 500, "health_check_failure_threshold": 3}'


@dataclass
class Cluster:
    address: str
    head: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_start(*args: str, temp_dir: str) -> subprocess.Popen[bytes]:
    """`ray start --block` in its own process group, so the node can be killed whole."""
    command = ["ray", "start", "--block", "--disable-usage-stats", f"--temp-dir={temp_dir}"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.Popen(
        [*command, *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _alive_nodes() -> int:
    return sum(node["Alive"] for node in ray.nodes())


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    temp_dir = tempfile.mkdtemp(prefix="aikg-ray-")
    address = f"127.0.0.1:{_free_port()}"
    resources = '{"aikg_slot": 1}'
    head = _ray_start(
        "--head",
        f"--port={address.split(':')[1]}",
        "--num-cpus=1",
        f"--resources={resources}",
        "--include-dashboard=false",
        f"--system-config={FAST_HEALTH_CHECKS}",
        temp_dir=temp_dir,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ray.init(address=address, log_to_driver=False, logging_level="ERROR")
                break
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        worker = _ray_start(
            f"--address={address}", "--num-cpus=1", f"--resources={resources}", temp_dir=temp_dir
        )
        while _alive_nodes() < 2:
            assert time.monotonic() < deadline, "the second Ray node did not join"
            time.sleep(0.2)
        yield Cluster(address, head, worker)
    finally:
        ray.shutdown()
        if worker is not None:
            _kill(worker)
        _kill(head)


async def test_task_verifies_through_the_cluster(cluster: Cluster, tmp_path: Path) -> None:
    assert cluster_slots(cluster.address, "cpu", SLOT) == ["cpu:0", "cpu:1"]
    pool = DevicePool(["cpu:0", "cpu:1"])
    ray_pool = {"kind": "ray", "address": cluster.address, "resources": SLOT}
    task = make_task(tmp_path, pool, "on-ray", devicepool=ray_pool)
    assert await task.run({"designer": good(), "coder": good()}) is True
    result = task.state.attempts[-1].result
    assert isinstance(result, RayVerifyResult) and result.passed and result.retries == []
    assert result.node in {n["NodeID"] for n in ray.nodes()}


async def test_node_lost_mid_job_is_retried_elsewhere(cluster: Cluster) -> None:
    verifier = RayVerifier(cluster.address, resources=SLOT)
    job = VerifyJob(DOUBLE, sleeping(3)._code, trials=1, timeout_s=60)
    head_node = ray.get_runtime_context().get_node_id()  # the driver joined via the head
    first = asyncio.ensure_future(verifier.verify(job))
    await asyncio.sleep(1.0)
    second = asyncio.ensure_future(verifier.verify(job))  # one slot per node: one job each
    await asyncio.sleep(2.5)
    _kill(cluster.worker)
    results = await asyncio.wait_for(asyncio.gather(first, second), 90)
    assert all(r.passed for r in results), [r.message for r in results]
    assert sorted(len(r.retries) for r in results) == [0, 1]
    moved = next(r for r in results if r.retries)
    assert moved.retries[0]["error"] in ("NodeDiedError", "WorkerCrashedError")
    assert {r.node for r in results} == {head_node}  # the retry ran on the node still alive
