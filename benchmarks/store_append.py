"""Event store throughput: appends one at a time vs batched, and reading a whole stream.

Run from the repository root: `python -m benchmarks.store_append [--events 10000]`.
Each case uses a fresh store file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from store import EventStore, NewEvent


def make_events(n: int) -> list[NewEvent]:
    return [
        NewEvent("bench.event", {"i": i, "score": i / 7, "note": "x" * 200, "tags": ["a", "b"]})
        for i in range(n)
    ]


async def append_in_batches(store: EventStore, events: list[NewEvent], batch: int) -> None:
    for start in range(0, len(events), batch):
        await store.append("bench", events[start : start + batch])


async def timed(path: Path, work: Callable[[EventStore], Awaitable[object]]) -> float:
    async with await EventStore.open(path) as store:
        start = time.perf_counter()
        await work(store)
        return time.perf_counter() - start


async def run(n: int) -> list[tuple[str, int, float]]:
    events = make_events(n)
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (1, 100, n):
            path = Path(tmp) / f"append_{batch}.db"
            seconds = await timed(path, lambda s, b=batch: append_in_batches(s, events, b))
            rows.append((f"append, batches of {batch}", n, seconds))
        stream_db = Path(tmp) / f"append_{n}.db"
        rows.append(
            ("read_stream (whole)", n, await timed(stream_db, lambda s: s.read_stream("bench")))
        )
        rows.append(("read_all (whole)", n, await timed(stream_db, lambda s: s.read_all())))
        summary_db = Path(tmp) / "streams.db"
        async with await EventStore.open(summary_db) as store:
            for k in range(100):
                await store.append(f"task-{k:03d}", events[:500])
        rows.append(("streams() 100 x 500", 50_000, await timed(summary_db, lambda s: s.streams())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    rows = asyncio.run(run(parser.parse_args().events))
    print(f"{'case':<28} {'events':>8} {'seconds':>9} {'events/s':>11}")
    for name, n, seconds in rows:
        print(f"{name:<28} {n:>8} {seconds:>9.3f} {n / seconds:>11.0f}")
    single = rows[0][2]
    print(f"batches of 100 vs one at a time: {single / rows[1][2]:.1f}x faster")
    print(f"one batch of {rows[2][1]} vs one at a time: {single / rows[2][2]:.1f}x faster")


if __name__ == "__main__":
    main()
