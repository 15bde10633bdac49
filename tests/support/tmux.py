"""A private tmux server for tests that drive the real program as a person would: keys in,
screen text out. No user config; `kill_server()` ends every session it started."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable

SOCKET = f"aikg-test-{uuid.uuid4().hex[:8]}"


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    base = ["tmux", "-L", SOCKET, "-f", "/dev/null"]
    return subprocess.run([*base, *args], check=check, capture_output=True, text=True)


def start(session: str, command: str, width: int = 120, height: int = 40) -> None:
    """`command` (a shell line) in a new detached session of that size."""
    tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)


def kill_server() -> None:
    tmux("kill-server", check=False)


def screen(session: str) -> str:
    return tmux("capture-pane", "-t", session, "-p").stdout


def wait_until(session: str, ok: Callable[[str], bool], timeout_s: float = 15.0) -> str:
    deadline = time.monotonic() + timeout_s
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(session)
        if ok(shown):
            return shown
        time.sleep(0.1)
    raise AssertionError(f"the screen never got there; it was:\n{shown}")


def wait_for(session: str, text: str, timeout_s: float = 15.0) -> str:
    return wait_until(session, lambda shown: text in shown, timeout_s)


def keys(session: str, *names: str) -> None:
    tmux("send-keys", "-t", session, *names)
