"""The whole loop: real store file, real verifier process, real Triton kernels."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aikg.config import load_config
from devicepool import DevicePool
from machine import events as ev
from machine.interrupted import Interrupted
from machine.recorder import decode_stored
from machine.task import Task
from store import EventStore
from tests.machine.providers import (
    SequenceProvider,
    scaling_kernel,
    segfaulting_kernel,
    wrong_kernel,
)

REPO = Path(__file__).resolve().parents[2]
SWISH = (REPO / "examples" / "swish.py").read_text()


def make_task(tmp_path: Path, source: str = SWISH, **kwargs) -> Task:
    config = load_config(overrides={"db": str(tmp_path / "events.db"), "verifier": {"trials": 2}})
    params = {
        "op_name": "swish",
        "task_desc": source,
        "backend": "cpu",
        "config": config,
        "device_pool": DevicePool(["cpu"]),
    }
    return Task(**{**params, **kwargs})


async def stored_types(tmp_path: Path, task_id: str) -> list[str]:
    async with await EventStore.open(tmp_path / "events.db") as store:
        return [e.type for e in await store.read_stream(task_id)]


async def test_builtin_verifies_swish_and_logs_whole_history(tmp_path: Path) -> None:
    task = make_task(tmp_path, task_id="swish-ok")
    assert await task.run() is True
    types = await stored_types(tmp_path, "swish-ok")
    assert types[0] == "task.created" and types[-1] == "task.finished"
    assert types.count("device.leased") == types.count("device.released") == 1
    assert task.state.best is not None and "@triton.jit" in task.state.best.code
    assert task.state.finished is not None and task.state.finished.reason == "verified"
    # running it again returns the recorded result without doing anything
    assert await make_task(tmp_path, task_id="swish-ok").run() is True
    assert await stored_types(tmp_path, "swish-ok") == types


async def test_stops_at_exactly_limit_steps(tmp_path: Path) -> None:
    coder = wrong_kernel()
    task = make_task(tmp_path, task_id="never", limit_steps=3)
    assert await task.run({"designer": coder, "coder": coder}) is False
    state = task.state
    assert state.finished is not None and state.finished.reason == "limit_reached"
    assert state.step == 3 and coder.code_calls == 3
    assert [a.result.stage for a in state.attempts] == ["mismatch"] * 3
    assert [d.action for d in state.decisions] == ["fix_code", "fix_design", "stop"]
    types = await stored_types(tmp_path, "never")
    assert types.count("step.started") == 3 and types.count("verify.finished") == 1
    assert [a.repeat_of for a in state.attempts] == [None, 1, 1]  # the same code each step


async def test_segfaulting_candidate_finishes_normally_and_releases(tmp_path: Path) -> None:
    coder = segfaulting_kernel()
    pool = DevicePool(["cpu"])
    task = make_task(tmp_path, task_id="crash", limit_steps=2, device_pool=pool)
    assert await task.run({"designer": coder, "coder": coder}) is False
    assert [a.result.stage for a in task.state.attempts] == ["crash", "crash"]
    assert pool.occupancy() == {"cpu": []}
    types = await stored_types(tmp_path, "crash")
    assert types.count("device.leased") == types.count("device.released") == 1  # step 2 repeats


async def test_a_repeated_candidate_is_not_verified_again(tmp_path: Path) -> None:
    first = scaling_kernel(2.0)
    coder = SequenceProvider(
        [first, scaling_kernel(2.0, "the same kernel again"), scaling_kernel(3.0)]
    )
    task = make_task(tmp_path, task_id="again", limit_steps=3)
    assert await task.run({"designer": coder, "coder": coder}) is False
    async with await EventStore.open(tmp_path / "events.db") as store:
        stored = [decode_stored(s) for s in await store.read_stream("again")]
    assert [e for e in stored if isinstance(e, ev.VerifyRepeated)] == [ev.VerifyRepeated(2, 1)]
    assert [e.step for e in stored if isinstance(e, ev.VerifyFinished)] == [1, 3]
    assert [e.step for e in stored if isinstance(e, ev.DeviceLeased)] == [1, 3]
    assert [a.repeat_of for a in task.state.attempts] == [None, 1, None]
    told = coder.requests[2]  # the request after the repeat asks for something different
    assert told.feedback is not None and "same code as step 1's" in told.feedback["message"]
    assert told.advice is not None and "write a different kernel" in told.advice
    assert told.feedback["stage"] == "mismatch"  # and still says what was wrong with it
    assert "values differ" in told.feedback["message"]


async def test_unsupported_op_ends_with_reason_naming_it(tmp_path: Path) -> None:
    source = SWISH.replace("x * torch.sigmoid(self.beta * x)", "torch.fft.fft(x).real")
    task = make_task(tmp_path, source=source, task_id="fft")
    assert await task.run() is False
    finished = task.state.finished
    assert finished is not None and finished.reason == "unsupported"
    assert "fft" in finished.message


async def test_interrupt_records_and_resume_finishes(tmp_path: Path) -> None:
    task = make_task(tmp_path, task_id="int")
    task.subscribe(
        lambda e, _s: task.interrupt("SIGINT") if isinstance(e, ev.DeviceLeased) else None
    )
    with pytest.raises(Interrupted):
        await task.run()
    async with await EventStore.open(tmp_path / "events.db") as store:
        stored = [decode_stored(s) for s in await store.read_stream("int")]
    assert isinstance(stored[-1], ev.TaskInterrupted) and stored[-1].state == "verifying"
    assert [type(e) for e in stored[-3:-1]] == [ev.DeviceLeased, ev.DeviceReleased]

    resumed = make_task(tmp_path, task_id="int")
    assert await resumed.run() is True
    types = await stored_types(tmp_path, "int")
    assert types.count("code.produced") == 1  # the candidate was not regenerated
    assert types.count("verify.finished") == 1
    assert "task.resumed" in types and types[-1] == "task.finished"


async def test_two_tasks_share_one_pool(tmp_path: Path) -> None:
    pool = DevicePool(["cpu"])
    tasks = [make_task(tmp_path, task_id=f"t{i}", device_pool=pool) for i in range(2)]
    assert await asyncio.gather(*(t.run() for t in tasks)) == [True, True]


async def test_a_reference_whose_inputs_do_not_fit_stops_the_task(tmp_path: Path) -> None:
    big = SWISH.replace("4096, 4096", "16384, 16384").replace("def get_small_inputs", "def unused")
    config = load_config(
        overrides={"db": str(tmp_path / "events.db"), "verifier": {"memory_headroom_gib": 0.25}}
    )
    task = make_task(tmp_path, source=big, task_id="big", config=config, limit_steps=3)
    assert await task.run() is False
    finished = task.state.finished
    assert finished is not None and finished.reason == "reference_error"
    assert task.state.step == 1  # stopped at once, not after every step
    message = finished.message
    assert "the reference's own model, inputs or run do not fit" in message
    assert "memory cap (0.25 GiB" in message and "verifier.memory_headroom_gib" in message
    assert "get_small_inputs()" in message and "not the candidate's fault" in message


def test_a_task_takes_a_recorded_id_and_refuses_other_spec_writes(tmp_path: Path) -> None:
    """bench/batch resume give a task its recorded stream's id: the spec the runner records
    carries it. Other spec fields are frozen: a write would reach the façade only."""
    task = make_task(tmp_path)
    task.task_id = "recorded-1"
    assert task.spec.task_id == "recorded-1" and task.created_event().task_id == "recorded-1"
    with pytest.raises(AttributeError, match="frozen spec"):
        task.backend = "cuda"
    assert task.spec.backend == "cpu"
