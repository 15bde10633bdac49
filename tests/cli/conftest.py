from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.canned_log import write_canned_log

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def aikg(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real `aikg` command in a subprocess, in a private directory and database."""

    def run(*args: str, timeout: float = 300, env: dict[str, str] | None = None):
        environ = {**os.environ, "AIKG_DB": str(tmp_path / "events.db"), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "aikg", *args],
            cwd=tmp_path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def canned_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log of finished, failed and running tasks; tests only read it."""
    return write_canned_log(tmp_path_factory.mktemp("canned") / "canned.db")
