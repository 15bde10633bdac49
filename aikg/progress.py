"""Progress lines on stderr while a task runs: one line per event worth seeing."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from machine import events as ev
from machine.state import TaskState


class ProgressPrinter:
    def __init__(self, stream: TextIO = sys.stderr, prefix: str = "") -> None:
        self.stream = stream
        self.prefix = prefix
        self.started = time.monotonic()

    def __call__(self, event: ev.Event, state: TaskState) -> None:
        line = self.describe(event, state)
        if line:
            elapsed = time.monotonic() - self.started
            limit = state.spec.limit_steps if state.spec else "?"
            print(
                f"{self.prefix}[{elapsed:6.1f}s] step {state.step}/{limit} {line}",
                file=self.stream,
                flush=True,
            )

    @staticmethod
    def describe(event: ev.Event, state: TaskState) -> str | None:
        if isinstance(event, ev.StepStarted):
            return f"{event.action}: {event.reason}"
        if isinstance(event, ev.DesignProduced):
            first = event.text.strip().splitlines()[0] if event.text.strip() else ""
            return f"design by {event.agent}: {first[:90]}"
        if isinstance(event, ev.CodeProduced):
            config = event.notes.get("launch_config")
            extra = f" {config}" if config else ""
            return f"code by {event.agent}: {len(event.code.splitlines())} lines{extra}"
        if isinstance(event, ev.CodeMissing):
            return f"no code from {event.agent} ({event.reason}): {event.message}"
        if isinstance(event, ev.DeviceLeased):
            return f"verifying on {event.device}…"
        if isinstance(event, ev.VerifyFinished):
            result = event.result
            if result.get("passed"):
                trials, took = result.get("trials_run"), result.get("duration_s") or 0.0
                return f"verified ({trials} trials, {took:.1f}s)"
            return f"rejected at {result.get('stage')}: {result.get('message')}"
        if isinstance(event, ev.ConductorDecided):
            return f"decided {event.action}: {event.reason}"
        if isinstance(event, ev.LLMRetried):
            return f"LLM retry {event.attempt} in {event.wait_s:.1f}s: {event.reason}"
        if isinstance(event, ev.TaskResumed):
            return f"resumed in {event.state}"
        return None
