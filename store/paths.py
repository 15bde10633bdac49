"""Where the event store lives: --db, then $AIKG_DB, then ./.aikg/events.db."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV_VAR = "AIKG_DB"
DEFAULT_RELATIVE_PATH = Path(".aikg") / "events.db"


def resolve_db_path(
    cli_value: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None
) -> Path:
    """The absolute store path; empty values count as unset. `environ` defaults to os.environ."""
    env = os.environ if environ is None else environ
    for value in (cli_value, env.get(ENV_VAR)):
        if value is not None and str(value) != "":
            return Path(value).expanduser().absolute()
    return Path.cwd() / DEFAULT_RELATIVE_PATH
