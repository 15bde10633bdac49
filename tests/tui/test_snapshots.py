"""SVG snapshot tests of the main screens (update with `pytest --snapshot-update`).

The clock is frozen at the newest event, and the canned log appends each stream in one
batch, so no wall-clock value reaches these screens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from tui.app import AikgApp

SIZE = (120, 36)


async def wait_loaded(pilot: Pilot) -> None:
    while not pilot.app.loaded:  # type: ignore[attr-defined]
        await pilot.pause(0.02)
    await pilot.pause()


def open_softmax(*keys: str) -> Callable[[Pilot], object]:
    async def run(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("slash", *"softmax", "enter")  # filter, back to the table
        await pilot.press("enter", *keys)
        await pilot.pause()

    return run


def test_task_list(snap_compare, canned_db: Path, frozen_now: float) -> None:
    app = AikgApp(canned_db, now=frozen_now)
    assert snap_compare(app, terminal_size=SIZE, run_before=wait_loaded)


def test_task_view_code(snap_compare, canned_db: Path, frozen_now: float) -> None:
    app = AikgApp(canned_db, now=frozen_now)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_softmax("2"))


def test_diff_view(snap_compare, canned_db: Path, frozen_now: float) -> None:
    app = AikgApp(canned_db, now=frozen_now)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_softmax("3"))


def test_replay_view(snap_compare, canned_db: Path, frozen_now: float) -> None:
    app = AikgApp(canned_db, now=frozen_now)
    keys = ("4", "left", "left", "left", "left")  # the verifier tab, before step 2's pass
    assert snap_compare(app, terminal_size=SIZE, run_before=open_softmax(*keys))
