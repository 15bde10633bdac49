"""`aikg bench`: every task of a suite through the full loop in profile mode, and a report."""

from __future__ import annotations

import argparse
import asyncio
import io
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from aikg.bench.report import BenchRow, RunMeta, write_report
from aikg.bench.suite import SuiteError, SuiteTask, discover_tasks
from aikg.breakdown import task_breakdown
from aikg.commands import EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.common import config_for, pool_for
from aikg.commands.resumable import take_over
from aikg.commands.sandbox_notice import say_sandbox
from aikg.config import Config
from aikg.interrupts import EXIT_FOR_SIGNAL, interruptible, resume_command
from aikg.run_progress import RunProgress
from aikg.writable import check_event_log, check_writable_dir
from machine.interrupted import Interrupted
from machine.llm_budget import share_batch_budget
from machine.ray_verification import verification_session
from machine.spec import new_task_id
from machine.state import TaskState
from machine.task import Task
from store import resolve_db_path

DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"


def row_for(suite_task: SuiteTask, state: TaskState, wall_s: float) -> BenchRow:
    """A report row from a finished task's folded state."""
    finished = state.finished
    if finished is not None and finished.success:
        status = "verified"
    elif finished is not None and finished.reason == "unsupported":
        status = "unsupported"
    else:
        status = "failed"
    timings = state.best_timings
    flops = timings.get("achieved_flop_per_s")
    bytes_per_s = timings.get("achieved_bytes_per_s")
    return BenchRow(
        task_file=str(suite_task.path),
        op_name=suite_task.op_name,
        family=suite_task.family,
        status=status,
        steps=state.step,
        wall_s=round(wall_s, 2),
        speedup_vs_eager=timings.get("speedup_vs_eager"),
        speedup_vs_compile=timings.get("speedup_vs_compile"),
        achieved_gbps=bytes_per_s / 1e9 if bytes_per_s and not flops else None,
        achieved_tflops=flops / 1e12 if flops else None,
        roofline_fraction=timings.get("roofline_fraction"),
        suspicious_speedup=_suspicious(state),
        verify_time=task_breakdown(state),
        dtype=suite_task.first_input_dtype(),
        tokens=state.tokens,
        cost_usd=state.cost_usd,
        message=_message(state),
        reference_from_prose=state.reference is not None,
    )


def _suspicious(state: TaskState) -> bool:
    """The kept kernel's speedup was too good to be true, and was re-verified."""
    best = state.best
    return best is not None and best.result is not None and best.result.suspicious_speedup


def _message(state: TaskState) -> str:
    """Why the task ended; for a failure, what the verifier said of its last candidate."""
    finished = state.finished
    text = finished.message if finished else "did not finish"
    last = state.last_attempt
    if finished is not None and not finished.success and last is not None and last.result:
        text += f"; last step rejected at {last.result.stage}: {last.result.message}"
    return text


def run_meta(backend: str, shapes: str, config: Config) -> RunMeta:
    import torch
    import triton

    gpu, driver = "", ""
    if backend == "cuda":
        gpu = torch.cuda.get_device_name(0)
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            driver = out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""
        except (OSError, subprocess.SubprocessError):
            driver = ""
    llm = config.agents.coder.provider
    if config.agents.coder.model:
        llm += f":{config.agents.coder.model}"
    return RunMeta(
        backend=backend,
        gpu_name=gpu or platform.processor() or platform.machine(),
        driver=driver,
        torch_version=torch.__version__,
        triton_version=triton.__version__,
        date=date.today().isoformat(),
        shapes=shapes,
        llm=llm,
    )


def suite_paths(paths: list[str], default: Path = DEFAULT_SUITE) -> list[Path | str]:
    """The paths to bench: those given, else the repository's suite — which a pip install
    does not carry, so then a UsageError naming what to give instead."""
    if paths:
        return list(paths)
    if not default.is_dir():
        raise UsageError(
            f"aikg bench: no task files given, and the default suite ({default}) is not "
            "here (it lives in aikg's source checkout, not in a pip install): give a folder "
            "of task files, e.g. a KernelBench checkout's KernelBench/level1"
        )
    return [default]


async def cmd_bench(args: argparse.Namespace) -> int:
    try:
        suite = discover_tasks(suite_paths(args.paths), args.filter)
    except SuiteError as exc:
        raise UsageError(str(exc)) from None
    if not suite:
        raise UsageError("no task files matched: check the paths and --filter")
    shapes = args.shapes or ("small" if args.backend == "cpu" else "default")
    config = config_for(args).updated({"verifier": {"shapes": shapes}})
    pool = pool_for(config, args.backend)
    if pool is None:
        raise UsageError(f"no {args.backend} device found: pass --devices or --backend cpu")
    out_dir = Path(args.out or f"bench-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}")
    check_event_log(resolve_db_path(config.db))
    check_writable_dir(out_dir, "--out", "pass --out a folder in a writable directory")
    tasks = [
        Task(
            op_name=item.op_name,
            task_desc=item.path.read_text(),
            task_id=new_task_id(item.op_name),
            backend=args.backend,
            config=config,
            device_pool=pool,
            task_type="profile",
            limit_steps=args.limit_steps,
        )
        for item in suite
    ]
    db = resolve_db_path(config.db)
    resumption = await take_over(db, tasks, args.fresh)
    launches = [task.launch for task in tasks]
    await share_batch_budget(config.agents.budget, db, launches, config.store.busy_timeout_s)
    if (found := resumption.line("bench")) is not None:
        print(found, file=sys.stderr, flush=True)
    say_sandbox(config, args.quiet, gpu=args.backend == "cuda")
    print(
        f"aikg bench: {len(tasks)} tasks on {', '.join(pool.devices)} ({shapes} shapes)",
        file=sys.stderr,
    )
    rows: list[BenchRow | None] = [None] * len(tasks)
    meta = run_meta(args.backend, shapes, config)
    slots = asyncio.Semaphore(max(1, len(pool.devices) * pool.capacity))
    progress = RunProgress(
        len(tasks), io.StringIO() if args.quiet else sys.stderr, args.backend != "cpu"
    )
    for index, recorded in resumption.kept.items():
        rows[index] = row_for(suite[index], recorded.state, recorded.wall_s)
        progress.kept(recorded.state)
    if resumption.kept:
        write_report([r for r in rows if r is not None], meta, out_dir)

    async def one(index: int) -> None:
        task = tasks[index]
        earlier = resumption.resumed.get(index)
        async with slots:
            started = time.monotonic()
            progress.task_started(task.op_name, task.state)
            task.subscribe(lambda _event, state: progress.task_stepped(task.op_name, state))
            try:
                await task.run()
            except Interrupted:  # every running task ends so; reported once, below
                return
            wall_s = time.monotonic() - started + (earlier.wall_s if earlier else 0.0)
            row = rows[index] = row_for(suite[index], task.state, wall_s)
        # the report so far, so an interrupted or timed-out run still leaves one
        write_report([r for r in rows if r is not None], meta, out_dir)
        speed = f", {row.speedup_vs_eager:.2f}x eager" if row.speedup_vs_eager else ""
        line = (
            f"[{progress.done + 1}/{len(tasks)}] {row.op_name}: {row.status} in {row.steps} steps"
        )
        progress.task_ended(task.op_name, task.state, line + speed)

    to_run = [i for i in range(len(tasks)) if i not in resumption.kept]
    # one verifier for the whole run: its warm workers (torch, CUDA, the device's measured
    # rates) outlive each task instead of restarting between them
    async with verification_session(config, config.agents.secret_env_names()):
        with progress:
            await interruptible(
                [tasks[i] for i in to_run], asyncio.gather(*(one(i) for i in to_run))
            )
    signal = next((t.interrupted_by for t in tasks if t.interrupted_by), None)
    if signal is not None:
        print(
            f"aikg: bench interrupted by {signal}; run the same command again to "
            f"go on (or its tasks with `{resume_command(db)}`)",
            file=sys.stderr,
        )
        return EXIT_FOR_SIGNAL.get(signal, 130)
    finished = [r for r in rows if r is not None]
    files = write_report(finished, meta, out_dir)
    for note in files.notes:
        print(f"aikg bench: {note}", file=sys.stderr)
    print(files.markdown)
    verified = sum(r.status == "verified" for r in finished)
    print(f"aikg bench: {verified}/{len(finished)} verified; report in {out_dir}", file=sys.stderr)
    return EXIT_OK if verified == len(finished) else EXIT_FAILED
