"""Appends events to one stream from its own process, for the store's cross-process tests.

Prints `ready` once the store is open, waits for a line on stdin, appends `count` events
one at a time, then prints the number of StreamConflicts it retried.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from store import EventStore, NewEvent, StreamConflict


async def append_all(db: str, stream: str, writer: str, count: int, expected: bool) -> int:
    store = await EventStore.open(db, busy_timeout_s=30.0)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    conflicts = 0
    for i in range(count):
        event = NewEvent("test.appended", {"writer": writer, "i": i})
        if not expected:
            await store.append(stream, [event])
            continue
        while True:
            try:
                await store.append(stream, [event], expected_seq=await store.last_seq(stream))
                break
            except StreamConflict:
                conflicts += 1
    await store.close()
    return conflicts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("stream")
    parser.add_argument("writer")
    parser.add_argument("count", type=int)
    parser.add_argument("--expected", action="store_true", help="use expected_seq and retry")
    args = parser.parse_args()
    conflicts = asyncio.run(
        append_all(args.db, args.stream, args.writer, args.count, args.expected)
    )
    print(conflicts, flush=True)


if __name__ == "__main__":
    main()
