"""Batch scheduling: 64 tasks on 1, 2, 4 and 8 device slots, wall time against the ideal.

Each task is a real `Task.run()` (FSM, event log in a real SQLite file, one DevicePool
shared by all, occupancy published to the `devices` stream), with at most `slots` tasks
at once as `aikg batch` does. The agent is scripted: it sleeps `--agent-s` and returns a
known-good kernel. The verifier is a fixed-latency fake (it sleeps `--verify-s` holding
its lease and passes), so the numbers measure scheduling and logging, not Triton.
Ideal = tasks x (agent + verify) / slots.

    python benchmarks/batch_scaling.py [--tasks 64] [--agent-s 0.2] [--verify-s 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.types import AgentRequest, Candidate, Design
from aikg.config import load_config
from devicepool import DevicePool, cpu_slots
from machine.task import Task
from verifier.result import VerifyJob, VerifyResult

REFERENCE = """
import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x * 2.0


def get_inputs():
    return [torch.randn(64)]


def get_init_inputs():
    return []
"""


class FixedLatencyAgent:
    """Designs at once; codes after `latency_s` with the same known-good kernel."""

    name = "fixed-latency"

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s

    async def design(self, request: AgentRequest) -> Design:
        return Design("scale by two")

    async def code(self, request: AgentRequest) -> Candidate:
        await asyncio.sleep(self.latency_s)
        return Candidate("class ModelNew: ...")


class FixedLatencyVerifier:
    """Passes every job after `latency_s`: stands in for a device's work."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s

    async def verify(self, job: VerifyJob) -> VerifyResult:
        await asyncio.sleep(self.latency_s)
        return VerifyResult(True, None, "passed (fixed-latency fake)", trials_run=1)

    async def close(self) -> None:
        """Nothing to release."""


async def run_batch(tasks: int, slots: int, agent_s: float, verify_s: float, db: Path) -> float:
    pool = DevicePool(cpu_slots(slots))
    config = load_config(overrides={"db": str(db)})
    agent = FixedLatencyAgent(agent_s)
    batch = [
        Task("double", REFERENCE, task_id=f"s{slots}-{i}", config=config, device_pool=pool)
        for i in range(tasks)
    ]
    gate = asyncio.Semaphore(slots)

    async def one(task: Task) -> bool:
        async with gate:
            return await task.run({"designer": agent, "coder": agent}, fake)

    fake = FixedLatencyVerifier(verify_s)
    started = time.perf_counter()
    results = await asyncio.gather(*(one(t) for t in batch))
    wall = time.perf_counter() - started
    assert all(results), "every task should verify"
    assert all(not held for held in pool.occupancy().values())
    return wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--agent-s", type=float, default=0.2)
    parser.add_argument("--verify-s", type=float, default=0.2)
    parser.add_argument("--json", metavar="OUT", help="also write the rows as JSON")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for slots in (1, 2, 4, 8):
            db = Path(tmp) / f"slots{slots}.db"
            wall = await run_batch(args.tasks, slots, args.agent_s, args.verify_s, db)
            ideal = args.tasks * (args.agent_s + args.verify_s) / slots
            rows.append({"slots": slots, "wall_s": wall, "ideal_s": ideal, "ratio": wall / ideal})
    print(f"{args.tasks} tasks, agent {args.agent_s}s + verify {args.verify_s}s (fake) each")
    print(f"{'slots':>5}  {'wall s':>8}  {'ideal s':>8}  {'wall/ideal':>10}")
    for r in rows:
        print(f"{r['slots']:>5}  {r['wall_s']:>8.2f}  {r['ideal_s']:>8.2f}  {r['ratio']:>10.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
