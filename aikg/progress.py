"""Progress lines on stderr while a task runs: one line per event worth seeing."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from machine import events as ev
from machine.describe import describe
from machine.state import TaskState


class ProgressPrinter:
    def __init__(self, stream: TextIO = sys.stderr, prefix: str = "") -> None:
        self.stream = stream
        self.prefix = prefix
        self.started = time.monotonic()

    def __call__(self, event: ev.Event, state: TaskState) -> None:
        line = describe(event)
        if line:
            elapsed = time.monotonic() - self.started
            limit = state.spec.limit_steps if state.spec else "?"
            print(
                f"{self.prefix}[{elapsed:6.1f}s] step {state.step}/{limit} {line}",
                file=self.stream,
                flush=True,
            )
