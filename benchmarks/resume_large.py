"""How long `aikg` takes to resume a task whose stream holds 10,000 events.

Builds a stream of ~10,000 realistic events (steps with LLM calls, streamed partials,
verifications and decisions) that stops after a decision, then times `Task.run()` from
the call until the resumed run records `task.resumed` (reading, decoding and folding the
stream, putting the state machine back). The run is then interrupted: the redo itself is
the agents' and verifier's time, not the resume's.

    python benchmarks/resume_large.py [--events 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import tempfile
import time
from pathlib import Path

from aikg.config import load_config
from devicepool import DevicePool
from machine import events as ev
from machine.conductor import mermaid_graph
from machine.interrupted import Interrupted
from machine.task import Task
from store import EventStore, NewEvent

SWISH = (Path(__file__).resolve().parents[1] / "examples" / "swish.py").read_text()


def step_events(step: int) -> list[ev.Event]:
    call = f"c{step}"
    messages = [{"role": "user", "content": "write the kernel " * 50}]
    text = "```python\n" + "x = 1\n" * 40 + "```"
    result = {"passed": False, "stage": "mismatch", "message": "values differ", "max_abs_err": 0.5}
    return [
        ev.StepStarted(step, "code", "last step failed: mismatch"),
        ev.LLMRequested(call, step, "coder", "m", messages),
        *(ev.LLMPartial(call, text[: 40 * i]) for i in range(1, 6)),
        ev.LLMResponded(call, text, {"total_tokens": 900}, 3.2, 0.001),
        ev.CodeProduced(step, text, "openai:m"),
        ev.DeviceLeased(step, "cpu"),
        ev.VerifyFinished(step, "cpu", result),
        ev.DeviceReleased(step, "cpu", 1.5),
        ev.ConductorDecided(step, "fix_code", "last step failed: mismatch"),
    ]


async def build(db: Path, target: int, config) -> tuple[str, int]:
    task_id = "big"
    created = ev.TaskCreated(
        task_id,
        "swish",
        SWISH,
        "cpu",
        "cpu",
        "triton",
        "torch",
        "precision_only",
        100_000,
        config.model_dump(mode="json"),
        config.digest(),
        mermaid_graph(),
        "bench",
    )
    events: list[ev.Event] = [created]
    step = 0
    while len(events) < target:
        step += 1
        events += step_events(step)
    async with await EventStore.open(db) as store:
        batch = [NewEvent(e.TYPE, e.to_payload(), e.VERSION) for e in events]
        await store.append(task_id, batch, expected_seq=0)
    return task_id, len(events)


async def time_resume(db: Path, task_id: str, config) -> float:
    task = Task(
        op_name="swish",
        task_desc=SWISH,
        task_id=task_id,
        backend="cpu",
        config=config,
        device_pool=DevicePool(["cpu"]),
        limit_steps=100_000,
    )
    marks: dict[str, float] = {}

    def on_event(event: ev.Event, _state) -> None:
        if isinstance(event, ev.TaskResumed):
            marks["resumed"] = time.perf_counter()
            task.interrupt("SIGINT")

    task.subscribe(on_event)
    started = time.perf_counter()
    with contextlib.suppress(Interrupted):
        await task.run()
    return marks["resumed"] - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "events.db"
        config = load_config(overrides={"db": str(db)})
        task_id, count = await build(db, args.events, config)
        seconds = [await time_resume(db, task_id, config) for _ in range(3)]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    print(f"stream: {count} events")
    print(
        "resume (read + decode + fold + state machine), 3 runs: "
        + ", ".join(f"{s:.3f} s" for s in seconds)
    )
    print(f"best {min(seconds):.3f} s (target: under 1 s)")


if __name__ == "__main__":
    asyncio.run(main())
