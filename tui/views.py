"""Rich renderables for the task view's tabs, each a pure function of a `Snapshot`."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from machine import events as ev
from store import StoredEvent
from tui.diff import coloured, unified
from tui.model import LLMCall, Snapshot


def code_versions(snapshot: Snapshot) -> list[tuple[int, str]]:
    """(step, code) of every attempt that produced code, oldest first."""
    return [(a.step, a.code) for a in snapshot.state.attempts if a.code is not None]


def design(snapshot: Snapshot) -> RenderableType:
    text = snapshot.state.design
    return Text(text) if text else Text("(no design yet)", style="dim")


def code(snapshot: Snapshot, dark: bool) -> RenderableType:
    versions = code_versions(snapshot)
    if not versions:
        return Text("(no code yet)", style="dim")
    step, source = versions[-1]
    syntax = Syntax(
        source,
        "python",
        theme="monokai" if dark else "friendly",
        line_numbers=True,
        background_color="default",
        word_wrap=False,
    )
    return Group(Text(f"step {step} · version {len(versions)}", style="bold"), syntax)


def diff(snapshot: Snapshot, old: int | None, new: int | None) -> RenderableType:
    """The unified diff between versions `old` and `new` (1-based; default the last two)."""
    versions = code_versions(snapshot)
    if len(versions) < 2:
        return Text("(a diff needs two code versions)", style="dim")
    count = len(versions)
    new = count if new is None else max(1, min(new, count))
    old = max(1, new - 1) if old is None else max(1, min(old, count))
    old_step, old_code = versions[old - 1]
    new_step, new_code = versions[new - 1]
    lines = unified(old_code, new_code, f"v{old} (step {old_step})", f"v{new} (step {new_step})")
    return coloured(lines)


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.4g}{unit}" if isinstance(value, float) else f"{value}{unit}"


_TIMED = ("candidate", "eager", "compile")


def verify(snapshot: Snapshot) -> RenderableType:
    """One block per verified step, newest last: verdict, message, errors, timings."""
    attempts = [a for a in snapshot.state.attempts if a.result is not None or a.missing]
    if not attempts:
        return Text("(nothing verified yet)", style="dim")
    text = Text()
    for attempt in attempts:
        text.append(f"step {attempt.step}: ", style="bold")
        if attempt.missing is not None:
            text.append(f"no code — {attempt.missing.summary}\n\n", style="yellow")
            continue
        result = attempt.result
        assert result is not None  # the list holds attempts with a result or missing code
        if result.passed:
            text.append("passed", style="bold green")
        else:
            text.append(f"failed at {result.stage}", style="bold red")
        text.append(f" — {result.message}\n")
        text.append(
            f"  errors   max abs {_num(result.max_abs_err)} · max rel {_num(result.max_rel_err)}\n"
        )
        timings = result.timings
        if timings:
            ms = {
                k: (timings.get(k) or {}).get("median_ms")
                for k in ("candidate", "eager", "compile")
            }
            text.append(
                f"  timings  candidate {_num(ms['candidate'], ' ms')} · "
                f"eager {_num(ms['eager'], ' ms')} · compile {_num(ms['compile'], ' ms')}\n"
            )
            text.append(
                f"  speedup  {_num(timings.get('speedup_vs_eager'), 'x')} vs eager · "
                f"{_num(timings.get('speedup_vs_compile'), 'x')} vs compile\n"
            )
        text.append("\n")
    return text


def decisions(snapshot: Snapshot) -> RenderableType:
    state = snapshot.state
    if not state.decisions and state.finished is None:
        return Text("(no decisions yet)", style="dim")
    table = Table(expand=True, title="conductor decisions")
    for name in ("after step", "action", "by", "reason"):
        table.add_column(name)
    for decision in state.decisions:
        table.add_row(str(decision.step), decision.action, decision.by, decision.reason)
    parts: list[RenderableType] = [table]
    if state.finished is not None:
        done = state.finished
        style = "green" if done.success else "red"
        parts.append(Text(f"finished: {done.reason} — {done.message}", style=style))
    return Group(*parts)


def _call_panel(call: LLMCall) -> Panel:
    body = Text()
    for message in call.messages:
        body.append(f"{message.get('role', '?')}: ", style="bold")
        body.append(f"{message.get('content', '')}\n")
    for retry in call.retries:
        body.append(f"retried {retry}\n", style="yellow")
    body.append("reply: ", style="bold magenta")
    body.append(call.text)
    if call.status == "streaming":
        body.append("▌", style="reverse")
    if call.failure:
        body.append(f"\nfailed: {call.failure}", style="red")
    usage = f" · {call.tokens} tokens · ${call.cost_usd:.4f}" if call.status == "responded" else ""
    title = f"{call.call_id} · {call.role} · {call.model} · step {call.step} · {call.status}{usage}"
    return Panel(body, title=title, title_align="left")


def llm(snapshot: Snapshot) -> RenderableType:
    if not snapshot.calls:
        return Text("(no LLM calls yet)", style="dim")
    return Group(*(_call_panel(call) for call in snapshot.calls.values()))


def event_summary(stored: StoredEvent, event: ev.Event | None) -> str:
    """A short one-line description of an event for the timeline."""
    if event is None:
        return "(unreadable)"
    if isinstance(event, ev.StepStarted):
        return f"step {event.step}: {event.action}"
    if isinstance(event, ev.VerifyFinished):
        result = event.result
        return "passed" if result.passed else f"failed: {result.stage}"
    if isinstance(event, ev.VerifyRepeated):
        return f"same code as step {event.repeat_of}: not verified again"
    if isinstance(event, ev.ConductorDecided):
        return f"{event.action}: {event.reason}"
    if isinstance(event, ev.LLMPartial):
        return f"{event.call_id} +{len(event.text)} chars"
    if isinstance(
        event, (ev.LLMRequested, ev.LLMResponded, ev.LLMFailed, ev.LLMRetried, ev.LLMWaiting)
    ):
        return event.call_id
    if isinstance(event, (ev.DeviceLeased, ev.DeviceReleased)):
        return event.device
    if isinstance(event, ev.TaskFinished):
        return event.reason
    if isinstance(event, ev.TaskInterrupted):
        return f"interrupted: {event.signal}"
    step = getattr(event, "step", None)
    return "" if step is None else f"step {step}"


def event_text(stored: StoredEvent) -> str:
    """Everything searchable about an event: its type and its payload as JSON."""
    return f"{stored.type} {json.dumps(stored.payload, sort_keys=True)}".lower()
