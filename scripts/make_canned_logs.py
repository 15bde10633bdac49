"""Write a canned aikg event log for the dashboard's tests, demos and benchmark.

    python scripts/make_canned_logs.py OUT_DB                      # the canned scenarios
    python scripts/make_canned_logs.py OUT_DB --tasks 100 --events 50000   # a big log

The canned log holds a success (a design, a step failing with a mismatch, then a verified,
timed step whose LLM reply streamed in partials), a failure (the step limit reached) and a
multi-device batch on cuda:0/cuda:1 with the `devices` stream. Events go in through
`store.EventStore`; no agent runs. The content is fixed; only the store's timestamps vary,
and each stream is appended in one batch so its events share one timestamp.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from machine import events as ev  # noqa: E402
from machine.conductor import mermaid_graph  # noqa: E402
from store import EventStore, NewEvent  # noqa: E402

REFERENCE = """import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


def get_inputs():
    return [torch.randn(64, 1024)]


def get_init_inputs():
    return []
"""

CODE_V1 = """import torch
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    e = tl.exp(x)
    tl.store(y_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        softmax_kernel[(x.shape[0],)](x, y, x.shape[1], BLOCK=1024)
        return y
"""

CODE_V2 = """import torch
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    e = tl.exp(x)
    tl.store(y_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        softmax_kernel[(x.shape[0],)](x, y, x.shape[1], BLOCK=1024, num_warps=4)
        return y
"""

DESIGN = (
    "One program per row. Load the row once (BLOCK = next power of two >= n_cols),\n"
    "subtract the row max for stability, exponentiate, sum and divide in registers.\n"
    "One read and one write of the tensor: bandwidth bound."
)


def created(task_id: str, op: str, backend: str, arch: str, limit: int, kind: str) -> NewEvent:
    return _new(
        ev.TaskCreated(
            task_id=task_id,
            op_name=op,
            task_desc=REFERENCE,
            backend=backend,
            arch=arch,
            impl_type="triton",
            framework="torch",
            task_type=kind,
            limit_steps=limit,
            config={"verifier": {"trials": 3}},
            config_digest="c0ffee",
            graph=mermaid_graph(),
            aikg_version="0.1.0",
            source_path=f"benchmarks/suite/{op}.py",
        )
    )


def _new(event: ev.Event) -> NewEvent:
    return NewEvent(event.TYPE, event.to_payload(), event.VERSION)


def llm_call(call_id: str, step: int, role: str, prompt: str, reply: str, chunks: int) -> list:
    """An LLM call whose reply streams in `chunks` partials before the final response."""
    out: list[ev.Event] = [
        ev.LLMRequested(
            call_id=call_id,
            step=step,
            role=role,
            model="deepseek-chat",
            messages=[
                {"role": "system", "content": f"You are the aikg {role}."},
                {"role": "user", "content": prompt},
            ],
        )
    ]
    for i in range(1, chunks + 1):
        out.append(ev.LLMPartial(call_id=call_id, text=reply[: len(reply) * i // (chunks + 1)]))
    out.append(
        ev.LLMResponded(
            call_id=call_id,
            text=reply,
            latency_s=2.5,
            cost_usd=0.0021,
            usage={"prompt_tokens": 900, "completion_tokens": 450, "total_tokens": 1350},
        )
    )
    return out


def mismatch(err: float) -> dict[str, Any]:
    return {
        "passed": False,
        "stage": "mismatch",
        "message": f"output differs from the reference: max abs err {err:g} > atol 1e-05",
        "max_abs_err": err,
        "max_rel_err": err * 3,
        "frac_mismatch": 0.031,
        "first_bad_index": [0, 17],
        "trials_run": 1,
        "duration_s": 1.2,
        "timings": None,
    }


def passed(candidate_ms: float, eager_ms: float, compile_ms: float) -> dict[str, Any]:
    return {
        "passed": True,
        "stage": None,
        "message": "3 trials matched the reference",
        "max_abs_err": 2.4e-7,
        "max_rel_err": 1.1e-6,
        "frac_mismatch": 0.0,
        "first_bad_index": None,
        "trials_run": 3,
        "duration_s": 4.8,
        "timings": {
            "candidate": {"median_ms": candidate_ms},
            "eager": {"median_ms": eager_ms},
            "compile": {"median_ms": compile_ms},
            "speedup_vs_eager": round(eager_ms / candidate_ms, 3),
            "speedup_vs_compile": round(compile_ms / candidate_ms, 3),
        },
    }


def verify_step(step: int, code: str, device: str, result: dict[str, Any]) -> list[ev.Event]:
    return [
        ev.CodeProduced(step=step, code=code, agent="openai", notes={"BLOCK": 1024}),
        ev.DeviceLeased(step=step, device=device),
        ev.VerifyFinished(step=step, device=device, result=result),
        ev.DeviceReleased(step=step, device=device, held_s=4.0),
    ]


def success_task() -> list[ev.Event]:
    out: list[ev.Event] = [ev.StepStarted(step=1, action="design", reason="first step")]
    out += llm_call("softmax-d1", 1, "designer", "Design a Triton softmax.", DESIGN, 2)
    out.append(ev.DesignProduced(step=1, text=DESIGN, agent="openai"))
    reply_1 = f"```python\n{CODE_V1}```"
    out += llm_call("softmax-c1", 1, "coder", "Write the kernel for the design.", reply_1, 3)
    out += verify_step(1, CODE_V1, "cuda:0", mismatch(0.42))
    out.append(ev.ConductorDecided(step=1, action="fix_code", reason="last step failed: mismatch"))
    out.append(ev.StepStarted(step=2, action="code", reason="last step failed: mismatch"))
    reply_2 = f"```python\n{CODE_V2}```"
    out += llm_call("softmax-c2", 2, "coder", "Fix the mismatch: max abs err 0.42.", reply_2, 4)
    out += verify_step(2, CODE_V2, "cuda:0", passed(0.021, 0.048, 0.030))
    out.append(ev.ConductorDecided(step=2, action="finish", reason="step 2 verified"))
    out.append(
        ev.TaskFinished(
            success=True, reason="verified", message="step 2 verified", steps=2, best_step=2
        )
    )
    return out


def failure_task() -> list[ev.Event]:
    compile_error = {
        "passed": False,
        "stage": "compile",
        "message": "triton compile error: tl.dot needs both operands of rank 2",
        "max_abs_err": None,
        "max_rel_err": None,
        "trials_run": 0,
        "duration_s": 0.8,
    }
    code = CODE_V1.replace("softmax", "layernorm")
    return [
        ev.StepStarted(step=1, action="design", reason="first step"),
        ev.DesignProduced(
            step=1, text="Two passes: mean and variance, then normalise.", agent="openai"
        ),
        *verify_step(1, code, "cuda:1", compile_error),
        ev.ConductorDecided(step=1, action="fix_code", reason="last step failed: compile"),
        ev.StepStarted(step=2, action="code", reason="last step failed: compile"),
        *verify_step(2, code.replace("BLOCK=1024", "BLOCK=2048"), "cuda:1", mismatch(1.7)),
        ev.ConductorDecided(step=2, action="stop", reason="no kernel verified in 2 steps"),
        ev.TaskFinished(
            success=False, reason="limit_reached", message="no kernel verified in 2 steps", steps=2
        ),
    ]


def batch_task(i: int, device: str, done: bool) -> list[ev.Event]:
    code = CODE_V2.replace("softmax", f"add{i}")
    out: list[ev.Event] = [
        ev.StepStarted(step=1, action="code", reason="first step"),
        ev.CodeProduced(step=1, code=code, agent="builtin"),
        ev.DeviceLeased(step=1, device=device),
    ]
    if done:
        out += [
            ev.VerifyFinished(step=1, device=device, result=passed(0.010 + i / 1000, 0.02, 0.015)),
            ev.DeviceReleased(step=1, device=device, held_s=2.0),
            ev.ConductorDecided(step=1, action="finish", reason="step 1 verified"),
            ev.TaskFinished(
                success=True, reason="verified", message="step 1 verified", steps=1, best_step=1
            ),
        ]
    return out


def devices_events() -> list[ev.Event]:
    """The pool during the batch: four tasks over two devices, batch-3 still holding cuda:0."""
    return [
        ev.PoolLeased(device="cuda:0", holder="batch-add-1", queue_length=2),
        ev.PoolLeased(device="cuda:1", holder="batch-add-2", queue_length=1),
        ev.PoolReleased(device="cuda:0", holder="batch-add-1", held_s=2.0, queue_length=1),
        ev.PoolLeased(device="cuda:0", holder="batch-add-3", queue_length=1),
        ev.PoolReleased(device="cuda:1", holder="batch-add-2", held_s=2.0, queue_length=1),
        ev.PoolLeased(device="cuda:1", holder="batch-add-4", queue_length=0),
        ev.PoolReleased(device="cuda:1", holder="batch-add-4", held_s=2.0, queue_length=0),
    ]


def canned_streams() -> list[tuple[str, list[NewEvent]]]:
    out: list[tuple[str, list[NewEvent]]] = []

    def add(stream: str, head: NewEvent | None, body: list[ev.Event]) -> None:
        events = [head] if head else []
        out.append((stream, events + [_new(e) for e in body]))

    add("softmax-1", created("softmax-1", "softmax", "cuda", "h100", 4, "profile"), success_task())
    add(
        "layernorm-1",
        created("layernorm-1", "layernorm", "cuda", "h100", 2, "precision_only"),
        failure_task(),
    )
    for i, device, done in (
        (1, "cuda:0", True),
        (2, "cuda:1", True),
        (3, "cuda:0", False),
        (4, "cuda:1", True),
    ):
        task_id = f"batch-add-{i}"
        add(
            task_id,
            created(task_id, "add", "cuda", "h100", 3, "profile"),
            batch_task(i, device, done),
        )
    add(ev.DEVICES_STREAM, None, devices_events())
    return out


def big_streams(n_tasks: int, n_events: int) -> list[tuple[str, list[NewEvent]]]:
    """`n_tasks` tasks of about n_events / n_tasks events each, mostly streamed LLM text."""
    per_task = max(20, n_events // n_tasks)
    out: list[tuple[str, list[NewEvent]]] = []
    for t in range(n_tasks):
        task_id = f"bulk-{t:03d}"
        body: list[ev.Event] = [
            ev.StepStarted(step=1, action="design", reason="first step"),
            ev.DesignProduced(step=1, text=DESIGN, agent="openai"),
        ]
        step = 0
        while len(body) + 16 < per_task - 1:
            step += 1
            chunks = min(40, per_task - 1 - len(body) - 14)
            reply = f"```python\n{CODE_V2}```"
            body += llm_call(f"{task_id}-c{step}", step, "coder", "Write it.", reply, chunks)
            ok = step % 3 == 0
            result = passed(0.02, 0.05, 0.03) if ok else mismatch(0.1 * step)
            body += verify_step(step, CODE_V2 if ok else CODE_V1, f"cuda:{t % 2}", result)
            body.append(ev.ConductorDecided(step=step, action="fix_code", reason="keep going"))
        events = [created(task_id, "softmax", "cuda", "h100", max(step, 1), "profile")]
        out.append((task_id, events + [_new(e) for e in body]))
    return out


async def write(path: Path, streams: list[tuple[str, list[NewEvent]]], batch: int) -> int:
    total = 0
    async with await EventStore.open(path) as store:
        # Round-robin over streams, `batch` events at a time, as concurrent tasks would write.
        cursors = {name: 0 for name, _ in streams}
        pending = list(streams)
        while pending:
            for name, events in list(pending):
                start = cursors[name]
                chunk = events[start : start + batch]
                await store.append(name, chunk, expected_seq=start)
                cursors[name] = start + len(chunk)
                total += len(chunk)
                if cursors[name] >= len(events):
                    pending.remove((name, events))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_db", type=Path)
    parser.add_argument("--tasks", type=int, default=0, help="write a big log of N tasks")
    parser.add_argument("--events", type=int, default=50_000, help="events in the big log")
    args = parser.parse_args(argv)
    if args.out_db.exists():
        print(f"{args.out_db} already exists: pass a new file name", file=sys.stderr)
        return 2
    if args.tasks:
        total = asyncio.run(write(args.out_db, big_streams(args.tasks, args.events), 50))
    else:
        total = asyncio.run(write(args.out_db, canned_streams(), 10_000))
    print(f"wrote {total} events to {args.out_db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
