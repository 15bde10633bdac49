"""Shared helpers: task and candidate files next to this file, and job builders."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TRITON_INTERPRET", "1")

HERE = Path(__file__).parent
ADVERSARIAL = HERE / "adversarial"
GOOD = HERE / "good"


def source(path: Path | str) -> str:
    return (HERE / path).read_text()
