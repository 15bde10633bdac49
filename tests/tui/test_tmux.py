"""Drive the real program in tmux as a person would: keys in, screen text out."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tmux import keys, kill_server, start, tmux, wait_for, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def session(canned_db: Path) -> Iterator[str]:
    name = "dashboard"
    # COLUMNS/LINES from the test runner would override the pane's real size.
    command = f"{sys.executable} -m tui.tui_command --db {canned_db}"
    start(name, f"cd {ROOT} && env -u COLUMNS -u LINES {command}")
    try:
        yield name
    finally:
        kill_server()


def test_person_opens_a_task_replays_it_and_quits(session: str) -> None:
    screen = wait_for(session, "softmax-1")
    assert "limit_reached" in screen
    assert "cuda:0" in screen and "batch-add-3" in screen  # the devices panel
    time.sleep(0.5)  # let the first frame settle before typing, as a person would
    keys(session, "/")
    time.sleep(0.3)
    keys(session, "-l", "soft")
    wait_until(session, lambda screen: "batch-add-1" not in screen)
    keys(session, "Enter")  # leaves the filter for the table
    time.sleep(0.3)
    keys(session, "Enter")
    wait_for(session, "LIVE · 30 events")
    keys(session, "Left", "Left", "Left")
    wait_for(session, "REPLAY · event 27/30")
    keys(session, "3")
    wait_for(session, "+++ v2 (step 2)")
    keys(session, "?")
    wait_for(session, "aikg dashboard")
    keys(session, "Escape")
    wait_until(session, lambda screen: "aikg dashboard" not in screen)
    keys(session, "Escape")
    wait_for(session, "/ filter")
    keys(session, "q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if tmux("has-session", "-t", session, check=False).returncode:
            return
        time.sleep(0.1)
    screen = tmux("capture-pane", "-t", session, "-p").stdout
    raise AssertionError(f"the program did not quit on q; the screen was:\n{screen}")
