"""One line of plain text per event worth showing a person (progress lines, replay traces)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from machine import events as ev


def launch_config_text(config: Mapping[str, Any]) -> str:
    """A launch configuration as a person reads it: `BLOCK_SIZE=1024, num_warps=4`."""
    return ", ".join(f"{key}={value}" for key, value in config.items())


def describe(event: ev.Event) -> str | None:
    """What `event` says, in a line; None for bookkeeping events nobody needs to see."""
    if isinstance(event, ev.StepStarted):
        return f"{event.action}: {event.reason}"
    if isinstance(event, ev.DesignProduced):
        first = event.text.strip().splitlines()[0] if event.text.strip() else ""
        return f"design by {event.agent}: {first[:90]}"
    if isinstance(event, ev.CodeProduced):
        config = event.notes.get("launch_config")
        extra = f" [{launch_config_text(config)}]" if config else ""
        return f"code by {event.agent}: {len(event.code.splitlines())} lines{extra}"
    if isinstance(event, ev.CodeMissing):
        return f"no code from {event.agent} ({event.reason}): {event.message}"
    if isinstance(event, ev.DeviceLeased):
        return f"verifying on {event.device}…"
    if isinstance(event, ev.VerifyFinished):
        result = event.result
        if result.passed:
            return f"verified ({result.trials_run} trials, {result.duration_s:.1f}s)"
        return f"rejected at {result.stage}: {result.message}"
    if isinstance(event, ev.VerifyRepeated):
        return f"same code as step {event.repeat_of}: its result stands, not verified again"
    if isinstance(event, ev.ConductorDecided):
        return f"decided {event.action}: {event.reason}"
    if isinstance(event, ev.LLMWaiting):
        return f"waiting for the LLM at {event.endpoint}: nothing for {event.waited_s:.0f}s"
    if isinstance(event, ev.LLMRetried):
        return f"LLM retry {event.attempt} in {event.wait_s:.1f}s: {event.reason}"
    if isinstance(event, ev.TaskResumed):
        return f"resumed in {event.state}"
    if isinstance(event, ev.TaskFinished):
        return f"finished: {event.reason}"
    return None
