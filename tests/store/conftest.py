"""Fixtures of the store test suite.

Every behavioural test opens stores through `store_factory`, so the suite can run against
another store implementation by overriding that fixture in a conftest beside it. Tests that
need a second process run the scripts in `scripts/` with the repository on PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from store import EventStore
from tests.store.aikg_commands import start_aikg

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"

StoreFactory = Callable[..., Awaitable[EventStore]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture
async def store_factory(db_path: Path) -> AsyncIterator[StoreFactory]:
    """`await store_factory(path=None, readonly=False, busy_timeout_s=5.0)`; closed at teardown."""
    opened: list[EventStore] = []

    async def open_store(
        path: Path | None = None, *, readonly: bool = False, busy_timeout_s: float = 5.0
    ) -> EventStore:
        store = await EventStore.open(
            path or db_path, readonly=readonly, busy_timeout_s=busy_timeout_s
        )
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        await store.close()


@pytest.fixture
async def store(store_factory: StoreFactory) -> EventStore:
    return await store_factory()


class ScriptProcess:
    """A running script of scripts/, talked to line by line over its stdin and stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def read_line(self, timeout_s: float = 30.0) -> str:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout_s)
        return line.decode().strip()

    def send_line(self, text: str = "") -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{text}\n".encode())

    async def finish(self, timeout_s: float = 60.0) -> str:
        """Close stdin, wait for a clean exit, and return the rest of stdout."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        out = await asyncio.wait_for(self.proc.stdout.read(), timeout_s)
        assert await asyncio.wait_for(self.proc.wait(), timeout_s) == 0
        return out.decode().strip()


Spawn = Callable[..., Awaitable[ScriptProcess]]


@pytest.fixture
async def spawn() -> AsyncIterator[Spawn]:
    """`await spawn("script_name", *args)` starts a script of scripts/; killed at teardown."""
    procs: list[asyncio.subprocess.Process] = []
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    async def start(script: str, *args: str) -> ScriptProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPTS / f"{script}.py"),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        procs.append(proc)
        return ScriptProcess(proc)

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


Launch = Callable[..., Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def launch() -> AsyncIterator[Launch]:
    """`await launch("run", ..., cwd=DIR)` starts the real `aikg`; killed at teardown."""
    procs: list[asyncio.subprocess.Process] = []

    async def start(*args: str, cwd: Path) -> asyncio.subprocess.Process:
        procs.append(await start_aikg(*args, cwd=cwd))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
