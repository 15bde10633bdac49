"""Progress of a long run (`aikg bench`, `aikg batch`) on stderr.

What it shows: tasks done of the total, verified so far, the running geometric-mean speedup
against each baseline (eager, compile; only where timings are speedups), elapsed time and
an ETA from the pace of the tasks this invocation ran, and each running task's state and
step. On a terminal that is a block drawn in place by rich (the tasks running, a bar and the
figures) with one permanent line per finished task above it; anywhere else (a pipe, a file,
CI) only the permanent lines, each ending with the figures, and no escape codes.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from machine.state import TaskState

BASELINES = ("eager", "compile")


def duration(elapsed: float) -> str:
    """45s, 2m05s, 1h02m."""
    seconds = round(elapsed)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def geomean(values: list[float]) -> float | None:
    positive = [v for v in values if v > 0]
    if not positive:
        return None
    return math.exp(sum(math.log(v) for v in positive) / len(positive))


class RunProgress:
    """Fed by the command as tasks start, step and end; draws itself (use as a context)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, speedups: bool = False) -> None:
        self.total = total
        self.stream = stream
        self.speedups = speedups  # profile mode on a GPU: the timings are speedups
        self.started = time.monotonic()
        self.done = 0
        self.done_here = 0  # finished by this invocation: the pace of the ETA
        self.verified = 0
        self.speedup: dict[str, list[float]] = {b: [] for b in BASELINES}
        self.running: dict[str, TaskState] = {}
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self.live: Live | None = None
        if stream.isatty():
            self.live = Live(
                console=self.console,
                get_renderable=self._render,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=False,  # stdout is for the result, printed after the run
                redirect_stderr=True,  # other lines on stderr show above the live block
            )

    def __enter__(self) -> RunProgress:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def kept(self, state: TaskState) -> None:
        """A task finished by an earlier invocation of the same run."""
        self._count(state)

    def task_started(self, name: str, state: TaskState) -> None:
        self.running[name] = state
        if self.live is None:
            self.say(f"started  {name}")

    def task_stepped(self, name: str, state: TaskState) -> None:
        if name in self.running:
            self.running[name] = state

    def task_ended(self, name: str, state: TaskState, line: str) -> None:
        """`line` says how the task went; the figures follow it."""
        self.running.pop(name, None)
        self.done_here += 1
        self._count(state)
        self.say(f"{line} · {self.figures()}")

    def say(self, line: str) -> None:
        """A permanent line (above the live block on a terminal)."""
        self.console.print(line, markup=False, highlight=False)
        self.stream.flush()

    def figures(self) -> str:
        parts = [f"{self.done}/{self.total} done", f"{self.verified} verified"]
        means = [(b, geomean(self.speedup[b])) for b in BASELINES]
        shown = [f"{value:.2f}x {b}" for b, value in means if value is not None]
        if self.speedups and shown:
            parts.append("geomean " + ", ".join(shown))
        elapsed = time.monotonic() - self.started
        parts.append(f"{duration(elapsed)} elapsed")
        parts.append(f"ETA {self.eta(elapsed)}")
        return ", ".join(parts)

    def eta(self, elapsed: float) -> str:
        left = self.total - self.done
        if left == 0:
            return "0s"
        if self.done_here == 0:
            return "--"
        return duration(elapsed / self.done_here * left)

    def _count(self, state: TaskState) -> None:
        self.done += 1
        if state.success:
            self.verified += 1
            timings = state.best_timings
            for baseline in BASELINES:
                value = timings.get(f"speedup_vs_{baseline}")
                if isinstance(value, int | float):
                    self.speedup[baseline].append(float(value))

    def _render(self) -> Group:
        table = Table.grid(padding=(0, 2))
        for name, state in list(self.running.items()):
            status = "starting" if state.status == "new" else state.status
            limit = state.spec.limit_steps if state.spec else "?"
            where = f"on {state.held_device}" if state.held_device else ""
            table.add_row(name, status, f"step {state.step}/{limit}", where)
        bar = ProgressBar(total=max(self.total, 1), completed=self.done, width=30)
        footer = Table.grid(padding=(0, 1))
        footer.add_row(bar, Text(self.figures()))
        return Group(table, footer)
