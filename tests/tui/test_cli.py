"""The command line: a missing store is a one-line error and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_missing_db_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    done = subprocess.run(
        [sys.executable, "-m", "tui.tui_command", "--db", str(missing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert str(missing) in done.stderr and "--db" in done.stderr


def test_a_file_that_is_not_a_store_is_a_one_line_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("not a database\n")
    done = subprocess.run(
        [sys.executable, "-m", "tui.tui_command", "--db", str(bogus)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "is not an aikg event store" in done.stderr
    assert bogus.read_text() == "not a database\n"
