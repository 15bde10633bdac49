"""Writes task-like streams the way `aikg run` uses the store, round after round.

Like `aikg run`, it holds two writer connections at once (the task's and the device
occupancy publisher's) and opens short-lived ones beside them (the pre-flight check of the
file). For each line `DB STREAM COUNT` on stdin it writes STREAM (`task.created`, COUNT
`step.started`, `task.finished`) and a line of its own to the shared `devices` stream,
closes everything and prints `done STREAM`.
"""

from __future__ import annotations

import asyncio
import random
import sys

from store import EventStore, NewEvent


async def write_task(db: str, stream: str, count: int) -> None:
    rng = random.Random(stream)
    task = await EventStore.open(db, busy_timeout_s=30.0)
    await task.append(stream, [NewEvent("task.created", {"task_id": stream})], expected_seq=0)
    occupancy = await EventStore.open(db, busy_timeout_s=30.0)
    for step in range(1, count + 1):
        await task.append(stream, [NewEvent("step.started", {"step": step})], expected_seq=step)
        if step % 7 == 0:
            await occupancy.append("devices", [NewEvent("pool.leased", {"holder": stream})])
        if step % 10 == 0:
            await (await EventStore.open(db, busy_timeout_s=30.0)).close()
        await asyncio.sleep(rng.uniform(0.0, 0.004))
    await occupancy.close()
    await task.append(stream, [NewEvent("task.finished", {"steps": count})], count + 1)
    await task.close()


async def serve() -> None:
    while line := await asyncio.to_thread(sys.stdin.readline):
        db, stream, count = line.split()
        await write_task(db, stream, int(count))
        print(f"done {stream}", flush=True)


if __name__ == "__main__":
    asyncio.run(serve())
