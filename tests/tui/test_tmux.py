"""Drive the real program in tmux as a person would: keys in, screen text out."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


SOCKET = f"aikg-tui-test-{uuid.uuid4().hex[:8]}"  # a private tmux server, no user config


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    base = ["tmux", "-L", SOCKET, "-f", "/dev/null"]
    return subprocess.run([*base, *args], check=check, capture_output=True, text=True)


@pytest.fixture
def session(canned_db: Path) -> Iterator[str]:
    name = "dashboard"
    # COLUMNS/LINES from the test runner would override the pane's real size.
    command = f"cd {ROOT} && env -u COLUMNS -u LINES {sys.executable} -m tui.cli --db {canned_db}"
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", command)
    try:
        yield name
    finally:
        tmux("kill-server", check=False)


def wait_until(session: str, ok: Callable[[str], bool], timeout_s: float = 15.0) -> str:
    deadline = time.monotonic() + timeout_s
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-t", session, "-p").stdout
        if ok(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"the screen never got there; it was:\n{screen}")


def wait_for(session: str, text: str) -> str:
    return wait_until(session, lambda screen: text in screen)


def keys(session: str, *names: str) -> None:
    tmux("send-keys", "-t", session, *names)


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
