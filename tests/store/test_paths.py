"""resolve_db_path: --db, then $AIKG_DB, then ./.aikg/events.db."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import resolve_db_path


def test_cli_value_wins(tmp_path: Path) -> None:
    env = {"AIKG_DB": str(tmp_path / "env.db")}
    assert resolve_db_path(str(tmp_path / "cli.db"), env) == tmp_path / "cli.db"


def test_environment_comes_next(tmp_path: Path) -> None:
    env = {"AIKG_DB": str(tmp_path / "env.db")}
    assert resolve_db_path(None, env) == tmp_path / "env.db"
    assert resolve_db_path("", env) == tmp_path / "env.db"


def test_default_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_db_path(None, {}) == tmp_path / ".aikg" / "events.db"
    assert resolve_db_path(None, {"AIKG_DB": ""}) == tmp_path / ".aikg" / "events.db"


def test_relative_values_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_db_path("runs/a.db", {}) == tmp_path / "runs" / "a.db"
    assert resolve_db_path(None, {"AIKG_DB": "b.db"}) == tmp_path / "b.db"


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_db_path("~/x.db", {}) == tmp_path / "x.db"
