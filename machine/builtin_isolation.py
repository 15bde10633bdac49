"""The built-in agent, run in its own confined process so no user code runs in aikg's.

`IsolatedBuiltinProvider` is the `Provider` the config's `builtin` role gets. Its requests
go to one warm `python -m machine.builtin_worker` per aikg process (shared by every role
and task of the process, started at the first request, closed with its last borrower:
`builtin_agent_session` keeps it for tasks run one after another), which answers them one
at a time. A helper that dies or hangs is replaced at the next request;
the request itself ends as `BuiltinAgentFailed` naming what happened, which stops the task
(the same reference would do it again).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

from agents.messages import (
    candidate_from_dict,
    design_from_dict,
    error_from_dict,
    request_to_dict,
)
from agents.types import AgentError, AgentRequest, Candidate, Design
from machine.verification import shared_service
from verifier.process import WorkerProcess, WorkerStartError, scrubbed_env
from verifier.sandbox_worker import SANDBOX_ENV

WORKER_MODULE = "machine.builtin_worker"
STARTUP_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 300.0  # one trace and lowering; a reference that hangs is stopped


class BuiltinAgentFailed(AgentError):
    """The built-in agent's process did not start, died, or hung on the reference."""

    reason = "builtin_failed"


class BuiltinAgentProcess:
    """The warm helper process; `ask` one request at a time."""

    def __init__(self, secret_env_names: Iterable[str], sandbox: str) -> None:
        env = scrubbed_env("cpu", secret_env_names)
        self.env = {**env, SANDBOX_ENV: sandbox}
        self._worker: WorkerProcess | None = None
        self._lock = asyncio.Lock()
        self.started = 0

    async def ask(self, role: str, request: AgentRequest) -> dict[str, Any]:
        async with self._lock:
            worker = await self._running()
            try:
                reply = await worker.ask(
                    {"role": role, "request": request_to_dict(request)}, REQUEST_TIMEOUT_S
                )
            except asyncio.CancelledError:  # its late answer must not reach the next request
                await asyncio.shield(self._retire())
                raise
            except asyncio.TimeoutError:
                await self._retire()
                raise BuiltinAgentFailed(
                    f"the built-in agent gave no answer within {REQUEST_TIMEOUT_S:g} s (does "
                    "the reference's Model hang when built?); its process was stopped"
                ) from None
            if reply is None:
                tail = worker.log_tail()
                await self._retire()
                raise BuiltinAgentFailed(
                    "the built-in agent's process died while tracing the reference"
                    + (f"; last output: {tail}" if tail else "")
                )
            if "error" in reply:
                raise error_from_dict(reply["error"])
            return dict(reply["reply"])

    async def _running(self) -> WorkerProcess:
        if self._worker is None or not self._worker.alive:
            try:
                self._worker = await WorkerProcess.start(
                    self.env, STARTUP_TIMEOUT_S, module=WORKER_MODULE
                )
            except WorkerStartError as exc:
                message = f"the built-in agent's process did not start: {exc}"
                raise BuiltinAgentFailed(message) from None
            self.started += 1
        return self._worker

    async def _retire(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.kill()

    async def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.close()


def builtin_agent_session(
    secret_env_names: Iterable[str], sandbox: str
) -> AbstractAsyncContextManager[BuiltinAgentProcess]:
    """Borrow the process's helper (it starts at its first request, not here)."""
    names = tuple(secret_env_names)
    return shared_service(f"builtin-agent:{sandbox}", lambda: BuiltinAgentProcess(names, sandbox))


class IsolatedBuiltinProvider:
    """The built-in agent as a `Provider`, its work done in the shared helper process."""

    name = "builtin"

    def __init__(self, secret_env_names: Iterable[str] = (), sandbox: str = "auto") -> None:
        self.secret_env_names = tuple(secret_env_names)
        self.sandbox = sandbox
        self._borrowed = contextlib.AsyncExitStack()
        self._process: BuiltinAgentProcess | None = None

    async def design(self, request: AgentRequest) -> Design:
        return design_from_dict(await self._ask("design", request))

    async def code(self, request: AgentRequest) -> Candidate:
        return candidate_from_dict(await self._ask("code", request))

    async def _ask(self, role: str, request: AgentRequest) -> dict[str, Any]:
        if self._process is None:
            self._process = await self._borrowed.enter_async_context(
                builtin_agent_session(self.secret_env_names, self.sandbox)
            )
        return await self._process.ask(role, request)

    async def close(self) -> None:
        """Give the helper back (the last user closes it)."""
        self._process = None
        await self._borrowed.aclose()
