"""Pilot tests of the dashboard on the canned event log."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from machine import events as ev
from store import EventStore, NewEvent
from tui.app import AikgApp
from tui.list_screen import ListScreen
from tui.screens import HelpScreen
from tui.task_screen import TaskScreen

SIZE = (140, 40)


async def loaded(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, AikgApp)
    while not app.loaded:
        await pilot.pause(0.02)
    await pilot.pause()


def task_ids(app: AikgApp) -> list[str]:
    table = app.list_screen().query_one("#tasks", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def text_of(screen: TaskScreen, widget_id: str) -> str:
    """The widget's content as plain text, rendered the way a wide terminal would."""
    console = Console(width=200, file=io.StringIO(), color_system=None)
    console.print(screen.query_one(widget_id, Static).content)
    return console.file.getvalue()  # type: ignore[attr-defined]


async def open_task(pilot: Pilot, task_id: str) -> TaskScreen:
    app = pilot.app
    assert isinstance(app, AikgApp)
    table = app.list_screen().query_one("#tasks", DataTable)
    table.move_cursor(row=table.get_row_index(task_id))
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, TaskScreen)
    return app.screen


async def test_list_shows_every_task(canned_db: Path) -> None:
    app = AikgApp(canned_db)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert task_ids(app) == [
            "batch-add-1",
            "batch-add-2",
            "batch-add-3",
            "batch-add-4",
            "layernorm-1",
            "softmax-1",
        ]
        table = app.list_screen().query_one("#tasks", DataTable)
        row = table.get_row("softmax-1")
        assert row[3:7] == ["verified", "2/4", "✓", "2.29x"]
        assert table.get_row("layernorm-1")[3] == "limit_reached"
        assert table.get_row("batch-add-3")[3] == "verifying"


async def test_sort_by_key_and_header_click_and_filter(canned_db: Path) -> None:
    app = AikgApp(canned_db)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = app.list_screen()
        await pilot.press("s")  # sort by op
        assert task_ids(app)[-1] == "softmax-1"
        assert task_ids(app)[-2] == "layernorm-1"
        await pilot.press("r")
        assert task_ids(app)[0] == "softmax-1"
        # Clicking the "best speedup" header sorts by it, ascending.
        await pilot.click("#tasks", offset=(80, 0))
        assert screen.sort_column == 6
        assert task_ids(app)[-1] == "softmax-1"
        await pilot.press("slash", *"batch")
        assert task_ids(app) == ["batch-add-3", "batch-add-4", "batch-add-2", "batch-add-1"]
        await pilot.press("enter")  # back to the table: "s" sorts again, not typed
        await pilot.press("s")
        assert screen.sort_column == 7


async def test_open_task_and_replay_with_arrows(canned_db: Path) -> None:
    app = AikgApp(canned_db)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_task(pilot, "softmax-1")
        assert "LIVE" in text_of(screen, "#task-header")
        assert "verified" in text_of(screen, "#task-header")
        for _ in range(3):  # back past task.finished, conductor.decided, device.released
            await pilot.press("left")
        header = text_of(screen, "#task-header")
        assert "REPLAY · event 27/30 · verify.finished" in header
        assert "finished" not in text_of(screen, "#view-decisions")
        await pilot.press("left")  # before the verifier's pass
        assert "passed" not in text_of(screen, "#view-verify")
        assert "mismatch" in text_of(screen, "#view-verify")
        await pilot.press("right", "right", "right", "right")
        assert "finished: verified" in text_of(screen, "#view-decisions")
        await pilot.press("end")
        assert "LIVE" in text_of(screen, "#task-header")
        await pilot.press("escape")
        assert isinstance(app.screen, ListScreen)


async def test_jump_and_search(canned_db: Path) -> None:
    app = AikgApp(canned_db)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_task(pilot, "softmax-1")
        await pilot.press("g", "2", "enter")
        assert "step.started" in text_of(screen, "#task-header")
        assert "step 2" in text_of(screen, "#task-header")
        await pilot.press("slash", *"verify.finished", "enter")
        assert "event 27/30" in text_of(screen, "#task-header")
        await pilot.press("n")
        assert "event 15/30" in text_of(screen, "#task-header")
        await pilot.press("g", "#", "4", "enter")
        assert "event 4/30 · llm.partial" in text_of(screen, "#task-header")
        # The LLM view shows the reply as streamed so far, marked as streaming.
        assert "streaming" in text_of(screen, "#view-llm")


async def test_diff_view_shows_added_and_removed_lines(canned_db: Path) -> None:
    app = AikgApp(canned_db)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_task(pilot, "softmax-1")
        await pilot.press("3")
        diff = screen.query_one("#view-diff", Static).content
        lines = str(diff).splitlines()
        assert "--- v1 (step 1)" in lines
        assert "+++ v2 (step 2)" in lines
        assert any(line.startswith("-") and "other=0.0" in line for line in lines)
        assert any(line.startswith("+") and "tl.max" in line for line in lines)
        styles = {str(span.style) for span in diff.spans}  # type: ignore[attr-defined]
        assert {"green", "red"} <= styles


async def test_new_events_appear_while_running(canned_db: Path) -> None:
    app = AikgApp(canned_db, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_task(pilot, "batch-add-3")
        assert "verifying" in text_of(screen, "#task-header")
        async with await EventStore.open(canned_db) as store:
            created = (await store.read_stream("softmax-1"))[0]
            await store.append(
                "late-1", [NewEvent("task.created", {**created.payload, "task_id": "late-1"})]
            )
            finished = ev.TaskFinished(
                success=False, reason="agent_error", message="stopped", steps=1
            )
            await store.append("batch-add-3", [NewEvent(finished.TYPE, finished.to_payload())])
            for _ in range(50):
                await pilot.pause(0.02)
                if "agent_error" in text_of(screen, "#task-header"):
                    break
            assert "agent_error" in text_of(screen, "#task-header")
        await pilot.press("escape")  # the list catches up with what changed meanwhile
        await pilot.pause()
        assert "late-1" in task_ids(app)
        assert app.list_screen().query_one("#tasks", DataTable).get_row("batch-add-3")[3] == (
            "agent_error"
        )


async def test_diff_between_chosen_versions(canned_db: Path) -> None:
    app = AikgApp(canned_db)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = await open_task(pilot, "softmax-1")
        await pilot.press("right_curly_bracket")  # already the newest: no change
        assert "+++ v2 (step 2)" in text_of(screen, "#view-diff")
        await pilot.press("right_square_bracket")  # from v2 to v2
        assert "identical" in text_of(screen, "#view-diff")
        await pilot.press("left_square_bracket", "left_curly_bracket")  # v1 -> v1
        assert "identical" in text_of(screen, "#view-diff")
        await pilot.press("right_curly_bracket")
        assert "--- v1 (step 1)" in text_of(screen, "#view-diff")


async def test_new_task_appears_on_the_list(canned_db: Path) -> None:
    app = AikgApp(canned_db, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        async with await EventStore.open(canned_db) as store:
            created = (await store.read_stream("layernorm-1"))[0]
            payload = {**created.payload, "task_id": "aaa-new", "op_name": "relu"}
            await store.append("aaa-new", [NewEvent("task.created", payload)])
        for _ in range(50):
            await pilot.pause(0.02)
            if "aaa-new" in task_ids(app):
                break
        assert task_ids(app)[0] == "aaa-new"
        assert app.list_screen().query_one("#tasks", DataTable).get_row("aaa-new")[3] == "created"


async def test_help_theme_resize_and_task_flag(canned_db: Path) -> None:
    app = AikgApp(canned_db, task_id="layernorm-1")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert isinstance(app.screen, TaskScreen) and app.screen.stream == "layernorm-1"
        assert "limit_reached" in text_of(app.screen, "#task-header")
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark is not dark
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, ListScreen)
        await pilot.resize_terminal(70, 20)
        await pilot.pause()
        assert app.screen.size == (70, 20)
        assert len(task_ids(app)) == 6
