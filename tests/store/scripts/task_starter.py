"""Starts a task's stream and stops there, for `aikg db check`'s tests of lost streams.

`task_starter.py DB STREAM` appends `task.created` and `step.started`, prints `ready` and
keeps the store open. Each `append` line on stdin appends one more `step.started` and
prints `appended` (or the store's one-line error); `close` closes the store, unfinished.
"""

from __future__ import annotations

import asyncio
import sys

from machine import events as ev
from store import EventStore, NewEvent, StoreError


def created(task_id: str) -> ev.TaskCreated:
    return ev.TaskCreated(
        task_id=task_id,
        op_name="swish",
        task_desc="class Model: ...",
        backend="cpu",
        arch="cpu",
        impl_type="triton",
        framework="torch",
        task_type="precision_only",
        limit_steps=3,
        config={},
        config_digest="0" * 16,
        graph="",
        aikg_version="test",
    )


def new(event: ev.Event) -> NewEvent:
    return NewEvent(event.TYPE, event.to_payload(), event.VERSION)


async def main(db: str, stream: str) -> None:
    store = await EventStore.open(db)
    step = ev.StepStarted(step=1, action="design", reason="first step")
    await store.append(stream, [new(created(stream)), new(step)], expected_seq=0)
    print("ready", flush=True)
    while line := (await asyncio.to_thread(sys.stdin.readline)).strip():
        if line == "close":
            break
        try:
            await store.append(stream, [new(step)])
            print("appended", flush=True)
        except StoreError as exc:
            print(exc, flush=True)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
