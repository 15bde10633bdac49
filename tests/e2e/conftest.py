"""Helpers for whole-program tests: the real `aikg` command in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.kernels import DESIGN, SWISH_KERNEL, WRONG_KERNEL, fenced
from tests.support.aikg_cli import llm_flags  # noqa: F401 (shared with the tests)
from tests.support.openai_server import Step

REPO = Path(__file__).resolve().parents[2]
SWISH = str(REPO / "examples" / "swish.py")
KEY = "sk-test-7f3a9c1e5b2d8046-secret"


def by_role(chunk_delay_s: float = 0.0) -> Callable[[dict[str, Any]], Step]:
    """Answers like a model would: a design, then a wrong kernel, then (told why) a right one."""

    def respond(body: dict[str, Any]) -> Step:
        text = json.dumps(body["messages"])
        options = {"chunk_delay_s": chunk_delay_s, "chunk_chars": 200}
        if "Designer" in text or "design" in body["messages"][0]["content"].lower()[:200]:
            return Step.reply(DESIGN, **options)
        kernel = SWISH_KERNEL if "mismatch" in text else WRONG_KERNEL
        return Step.reply(fenced(kernel), **options)

    return respond


# What a reader may meet while a writer creates the log: nothing recorded yet, not an error.
_NOT_CREATED_YET = ("no such table", "database is locked")


def rows(db: Path, stream: str) -> list[tuple[int, str, str]]:
    """(seq, type, payload) of a stream, read with plain sqlite3 while others write.

    Empty while the log is being created; any other read error is raised, so a failed
    read is reported as itself, never as a stream that lost its events.
    """
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(
            "SELECT seq, type, payload FROM events WHERE stream = ? ORDER BY seq", (stream,)
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if any(reason in str(exc) for reason in _NOT_CREATED_YET):
            return []
        raise
    finally:
        conn.close()


def said(result: subprocess.CompletedProcess[str]) -> str:
    """A command's exit code and output, for a failure's message."""
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def story(events: list[tuple[int, str, str]]) -> str:
    """`1:task.created 2:step.started ...`: a stream in one line, for a failure's message."""
    return " ".join(f"{seq}:{type_}" for seq, type_, _ in events)


@pytest.fixture
def aikg_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIKG_DB": str(tmp_path / "events.db"),
        "AIKG_TEST_KEY": KEY,
        "PYTHONUNBUFFERED": "1",
    }


def run_aikg(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "aikg", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
