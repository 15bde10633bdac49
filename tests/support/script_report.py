"""A Python script run in a fresh interpreter with this repository importable, and the
JSON report it prints on its last line of output (memory and GPU tests measure a process
of their own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def script_report(
    script: str,
    *args: str,
    env: Mapping[str, str | None] | None = None,
    timeout_s: float = 300,
) -> dict[str, Any]:
    """Runs ``python -c script args``; ``env`` sets (None: removes) variables. Fails the
    test with the script's stderr when it exits non-zero."""
    environ = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    paths = [str(REPO), environ.get("PYTHONPATH", "")]
    environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
