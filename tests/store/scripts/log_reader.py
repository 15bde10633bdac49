"""Reads a store while others write it, as the dashboard and `aikg ls` do.

For each line `DB` on stdin it tails DB through one long-lived read-only connection (the
dashboard's) and, beside it, opens short-lived read-only stores that list the streams (as
`aikg ls` does), until the next line arrives. Then it prints `read N` (events tailed) or
`bad ...` when positions went backwards or a stream's seqs were not 1..n.
"""

from __future__ import annotations

import asyncio
import sys

from store import EventStore, StoreNotFound


async def open_when_created(db: str) -> EventStore:
    while True:
        try:
            return await EventStore.open(db, readonly=True, busy_timeout_s=30.0)
        except StoreNotFound:
            await asyncio.sleep(0.01)


async def read_until(db: str, stop: asyncio.Future[str]) -> str:
    tail = await open_when_created(db)
    position, seen, problems = 0, 0, []
    while not stop.done():
        for event in await tail.read_all(after_position=position):
            if event.position <= position:
                problems.append(f"position {event.position} after {position}")
            position = event.position
            seen += 1
        async with await open_when_created(db) as lister:
            for info in await lister.streams():
                if info.n_events != info.last_seq:
                    problems.append(
                        f"{info.stream}: {info.n_events} events, last seq {info.last_seq}"
                    )
        await asyncio.sleep(0.01)
    await tail.close()
    return f"bad {'; '.join(problems[:3])}" if problems else f"read {seen}"


async def serve() -> None:
    line = await asyncio.to_thread(sys.stdin.readline)
    while line:
        stop: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        reading = asyncio.ensure_future(read_until(line.strip(), stop))
        line = await asyncio.to_thread(sys.stdin.readline)
        stop.set_result(line)
        print(await reading, flush=True)


if __name__ == "__main__":
    asyncio.run(serve())
