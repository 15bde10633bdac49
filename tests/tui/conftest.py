"""Canned event logs for the dashboard tests, written by scripts/make_canned_logs.py."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_canned_logs.py"


@pytest.fixture(scope="session")
def canned_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("canned") / "canned.db"
    subprocess.run([sys.executable, str(SCRIPT), str(path)], check=True, capture_output=True)
    return path


@pytest.fixture
def canned_db(canned_master: Path, tmp_path: Path) -> Path:
    """A private copy of the canned log, so a test may append to it."""
    path = tmp_path / "canned.db"
    shutil.copy(canned_master, path)
    return path


@pytest.fixture
def frozen_now(canned_master: Path) -> float:
    """The newest event's timestamp: 'now' for screens that must not move with the clock."""
    with sqlite3.connect(canned_master) as conn:
        return float(conn.execute("SELECT MAX(ts) FROM events").fetchone()[0])
