"""The canned event log (scripts/make_canned_logs.py): tasks of every outcome, no agent run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_canned_logs.py"
CANNED_TASKS = ("softmax-1", "layernorm-1", "batch-add-1", "batch-add-3")


def write_canned_log(path: Path) -> Path:
    subprocess.run([sys.executable, str(SCRIPT), str(path)], check=True, capture_output=True)
    return path
