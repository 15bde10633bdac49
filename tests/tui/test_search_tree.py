"""The task view's tree tab on a search's log (a real SQLite file): nodes by status, the
best path, a node's code and its diff against its parent."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from textual.widgets import Static, Tree

from machine import events as ev
from store import EventStore, NewEvent
from tests.machine.samples import SAMPLES
from tests.tui.test_app import SIZE, loaded, open_task
from tui.app import AikgApp


def _kernel(block: int) -> str:
    return f"BLOCK = {block}\n\nclass ModelNew:\n    pass\n"


def _passed(ms: float) -> dict[str, object]:
    return {
        "passed": True,
        "stage": None,
        "message": "",
        "timings": {"candidate": {"median_ms": ms}},
    }


async def _write_search(db: Path) -> None:
    created = replace(SAMPLES["task.created"], task_id="search-1", task_type="profile")
    events: list[ev.Event] = [created, ev.StepStarted(1, "design", "first step")]
    nodes = [(1, None, 1024, _passed(4.0)), (2, "n1", 2048, _passed(2.0))]
    nodes += [(3, "n1", 512, {"passed": False, "stage": "compile", "message": "bad"})]
    for step, parent, block, result in nodes:
        idea = f"BLOCK={block}"
        events += [ev.NodeCreated(step, f"n{step}", [parent] if parent else [], "builtin", idea)]
        events += [ev.StepStarted(step, "code", idea)] if step > 1 else []
        events += [
            ev.CodeProduced(step, _kernel(block), "builtin"),
            ev.VerifyFinished(step, "cpu", result),
        ]
    async with await EventStore.open(db) as store:
        await store.append("search-1", [NewEvent(e.TYPE, e.to_payload()) for e in events])


def _plain(renderable: object) -> str:
    console = Console(width=160, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


async def test_tree_tab_shows_nodes_and_a_nodes_diff(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await _write_search(db)
    app = AikgApp(db)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_task(pilot, "search-1")
        await pilot.press("7")
        await pilot.pause()
        tree = screen.query_one("#search-tree", Tree)
        root = tree.root.children[0]
        labels = [str(root.label)] + [str(child.label) for child in root.children]
        assert labels[0].startswith("n1 * verified, 4 ms")
        assert labels[1].startswith("n2 * verified, 2 ms")  # the best node, on the best path
        assert labels[2].startswith("n3 failed (compile)")
        assert "bold" in str(root.children[0].label.style)
        assert "red" in str(root.children[1].label.style)
        tree.focus()
        tree.move_cursor(root.children[0])
        await pilot.pause()
        detail = _plain(screen.query_one("#node-detail", Static).content)
        assert "BLOCK = 2048" in detail
        assert "-BLOCK = 1024" in detail and "+BLOCK = 2048" in detail  # against n1, its parent
