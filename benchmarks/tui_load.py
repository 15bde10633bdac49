"""Dashboard load benchmark: 100 tasks / 50,000 events.

    python benchmarks/tui_load.py [--tasks 100] [--events 50000] [--updates 10]

Writes a big canned log with scripts/make_canned_logs.py, then measures (headless, via
Textual's test driver): the time from starting the app to the first screen with every
task listed, and the latency of a live update (append an event with a writer, time until
the open task view shows it). Where tmux is installed it also runs the real program in a
120x40 tmux pane and measures what a person sees: launch to first screen (imports
included), and an appended task.created until the new task shows on the list.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from store import EventStore, NewEvent  # noqa: E402
from tui.app import AikgApp  # noqa: E402
from tui.task_screen import TaskScreen  # noqa: E402


async def measure(db: Path, tasks: int, updates: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    app = AikgApp(db)
    async with app.run_test(size=(160, 50)) as pilot:
        while not (app.loaded and app.list_screen().query_one("#tasks").row_count == tasks):
            await pilot.pause(0.005)
        first_screen = time.perf_counter() - start
        target = next(iter(app.projection.tasks))
        app.push_screen(TaskScreen(target))
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        latencies = []
        async with await EventStore.open(db) as writer:
            for i in range(updates):
                before = len(screen.record.events)
                payload = {"call_id": f"bench-{i}", "text": "x" * i}
                sent = time.perf_counter()
                await writer.append(target, [NewEvent("llm.partial", payload)])
                while screen._shown_rows <= before:
                    await pilot.pause(0.005)
                latencies.append(time.perf_counter() - sent)
    return first_screen, latencies


def _tmux(socket: str, *args: str) -> str:
    command = ["tmux", "-L", socket, "-f", "/dev/null", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _until_shown(socket: str, text: str, timeout_s: float = 30.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if text in _tmux(socket, "capture-pane", "-t", "bench", "-p"):
            return time.perf_counter() - start
        time.sleep(0.01)
    raise RuntimeError(f"{text!r} never appeared in the tmux pane")


async def _append_task(db: Path, task_id: str) -> None:
    async with await EventStore.open(db) as writer:
        created = (await writer.read_stream("bulk-000"))[0]
        payload = {**created.payload, "task_id": task_id}
        await writer.append(task_id, [NewEvent("task.created", payload)])


def measure_in_tmux(db: Path, updates: int) -> tuple[float, list[float]]:
    """Launch to first screen, and append-to-visible latencies, in a real terminal."""
    socket = f"aikg-bench-{time.monotonic_ns()}"
    command = f"cd {ROOT} && env -u COLUMNS -u LINES {sys.executable} -m tui.tui_command --db {db}"
    start = time.perf_counter()
    _tmux(socket, "new-session", "-d", "-s", "bench", "-x", "120", "-y", "40", command)
    try:
        _until_shown(socket, "bulk-000")
        first = time.perf_counter() - start
        latencies = []
        for i in range(updates):
            task_id = f"aaa-live-{i:02d}"  # sorts first, so it lands on the visible rows
            sent = time.perf_counter()
            asyncio.run(_append_task(db, task_id))
            _until_shown(socket, task_id)
            latencies.append(time.perf_counter() - sent)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False, capture_output=True)
    return first, latencies


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.db"
        script = ROOT / "scripts" / "make_canned_logs.py"
        subprocess.run(
            [
                sys.executable,
                str(script),
                str(db),
                "--tasks",
                str(args.tasks),
                "--events",
                str(args.events),
            ],
            check=True,
        )
        first, latencies = asyncio.run(measure(db, args.tasks, args.updates))
        print(f"headless: first screen ({args.tasks} tasks listed) {first:.2f} s")
        print(
            f"headless: live update of the open task view over {args.updates} appends: "
            f"{_ms(latencies)}"
        )
        if shutil.which("tmux") is None:
            print("tmux: not installed, real-terminal numbers skipped")
            return 0
        first, latencies = measure_in_tmux(db, args.updates)
        print(f"tmux 120x40: launch to first screen {first:.2f} s (imports included)")
        print(f"tmux 120x40: new task on the list over {args.updates} appends: {_ms(latencies)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
