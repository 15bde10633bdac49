"""Running the real `aikg` command on tiny CPU tasks, for the store's whole-program tests."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

TINY_TASK = """import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


def get_inputs():
    return [torch.randn(8, 32)]


def get_init_inputs():
    return []
"""


def write_tiny_task(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TINY_TASK)
    return path


async def start_aikg(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aikg",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def aikg(*args: str, cwd: Path, timeout_s: float = 180.0) -> tuple[int, str, str]:
    """Run `aikg ARGS` to its end: exit code, stdout, stderr."""
    proc = await start_aikg(*args, cwd=cwd)
    out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def stream_types(db: Path, stream: str) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        query = "SELECT seq, type FROM events WHERE stream = ? ORDER BY position"
        return conn.execute(query, (stream,)).fetchall()
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()
