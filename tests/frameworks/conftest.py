"""Helpers for the framework/backend tests: the real `aikg` command and real store files."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.aikg_cli import llm_flags  # noqa: F401 (shared with the tests)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
TASK_FILES = {
    "torch": EXAMPLES / "swish.py",
    "numpy": EXAMPLES / "numpy_softplus.py",
    "mindspore": EXAMPLES / "mindspore_swish.py",
}
KEY_ENV = "AIKG_TEST_KEY"

HAS_MINDSPORE = importlib.util.find_spec("mindspore") is not None
needs_mindspore = pytest.mark.skipif(
    not HAS_MINDSPORE,
    reason="mindspore is not installed here: pip install 'aikg[mindspore]' (numpy<2) to run",
)

# `sys.modules[name] = None` is Python's own way of saying "this module cannot be
# imported": find_spec answers None and `import` raises. It gives a MindSpore-less Python
# in a venv that has MindSpore.
WITHOUT_MINDSPORE = "import sys; sys.modules['mindspore'] = None; "


def aikg(
    args: list[str],
    cwd: Path,
    db: Path,
    prelude: str = "",
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """The real `aikg` command in a subprocess, with its own store file."""
    env = {**os.environ, "AIKG_DB": str(db), KEY_ENV: "sk-test-key", "PYTHONUNBUFFERED": "1"}
    code = f"{prelude}from aikg.cli import main; raise SystemExit(main({args!r}))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2 and exactly one line on stderr holding every needle; returns the line."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def event_count(db: Path) -> int:
    """Events in a store file (0 when the file does not exist), read with plain sqlite3."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def event_types(db: Path, task_id: str | None = None) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if task_id is None:
            rows = conn.execute("SELECT type FROM events ORDER BY position").fetchall()
        else:
            rows = conn.execute(
                "SELECT type FROM events WHERE stream = ? ORDER BY seq", (task_id,)
            ).fetchall()
        return [r[0] for r in rows]
    finally:
        conn.close()
