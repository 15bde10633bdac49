"""Names what a candidate tried that the sandbox denies, so the verdict can say so.

The kernel (``verifier.sandbox``) is what stops a candidate; it answers with an error the
candidate may swallow. This watch, a ``sys.addaudithook`` hook (it cannot be removed), sees
the same attempts made through Python however they were looked up — ``open``, ``os.system``,
``subprocess``, ``os.fork``, ``socket`` — and records those the policy denies while a job
runs. A candidate that calls libc directly (ctypes) is still stopped by the kernel, but only
its ``PermissionError``, if it lets one escape, names the sandbox.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from dataclasses import replace
from typing import Any

from verifier.result import VerifyResult
from verifier.sandbox import SandboxPolicy

STAGE = "sandbox"
SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"})
PROCESS_EVENTS = frozenset({"os.system", "os.fork", "os.forkpty", "pty.spawn", *SPAWN_EVENTS})
SOCKET_EVENTS = frozenset({"socket.__new__", "socket.connect", "socket.bind", "socket.sendto"})
WATCHED = frozenset({"open", *PROCESS_EVENTS, *SOCKET_EVENTS})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
KERNEL_DENIALS = ("PermissionError", "Operation not permitted", "Permission denied")


class SandboxWatch:
    """``start()`` before a job, ``verdict(result)`` after it. Without a policy (the process
    is not confined) it watches nothing and passes every result through."""

    def __init__(self, policy: SandboxPolicy | None, limit: int = 8) -> None:
        self.policy = policy
        self.limit = limit
        self.attempts: list[str] = []
        self._active = False
        self._busy = threading.local()
        if policy is not None:
            sys.addaudithook(self._hook)

    def start(self) -> None:
        self.attempts.clear()
        self._active = True

    def verdict(self, result: VerifyResult) -> VerifyResult:
        """The result, or a sandbox rejection when the candidate tried something denied or
        failed on a permission error the kernel raised. The worker stays: the kernel let
        nothing through, so there is nothing to clean up."""
        self._active = False
        if self.policy is None:
            return result
        if self.attempts:
            tried = "; ".join(self.attempts)
            message = (
                f"the candidate (or the task file) tried what the sandbox denies: {tried}. "
                "Kernels need no files outside their folder, no network and no processes"
            )
        elif not result.passed and any(mark in result.message for mark in KERNEL_DENIALS):
            message = f"the sandbox denied the candidate an operation: {result.message}"
        else:
            return result
        return replace(result, passed=False, stage=STAGE, message=message)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in WATCHED or not self._active or getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            denied = self._denied(event, args)
            if denied and denied not in self.attempts and len(self.attempts) < self.limit:
                self.attempts.append(denied)
        finally:
            self._busy.on = False

    def _denied(self, event: str, args: tuple[Any, ...]) -> str | None:
        assert self.policy is not None
        if event == "open":
            return self._open_denied(*args[:3])
        if event in SOCKET_EVENTS:
            return f"{event}{_brief(args[1:])}"
        if event in SPAWN_EVENTS:
            program = _program(event, args)
            if self.policy.allow_spawn and program and self.policy.allows_execute(program):
                return None
            return f"{event}({program!r})"
        return f"{event}{_brief(args)}"  # a fork or a shell: never allowed

    def _open_denied(self, path: Any, mode: Any, flags: Any) -> str | None:
        assert self.policy is not None
        if isinstance(path, int) or path is None:
            return None
        text = os.fsdecode(path)
        writing = any(c in str(mode or "") for c in "wax+") or bool((flags or 0) & _WRITE_FLAGS)
        if writing and not self.policy.allows_write(text):
            return f"open({text!r}) for writing"
        if (not writing and not self.policy.allows_read(text)) or _other_process(text):
            return f"open({text!r}) for reading"
        return None


def _other_process(path: str) -> bool:
    """/proc/PID/… of another process: Landlock denies it (as it denies ptrace) though /proc
    is readable."""
    parts = os.path.realpath(path).split("/")
    return (
        len(parts) > 2
        and parts[1] == "proc"
        and parts[2].isdigit()
        and int(parts[2]) != os.getpid()
    )


def _program(event: str, args: tuple[Any, ...]) -> str | None:
    """The program an exec/spawn event would run, resolved on PATH."""
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if executable is None and argv:
            executable = argv if isinstance(argv, (str, bytes)) else next(iter(argv), None)
    else:
        executable = args[0]
    if executable is None:
        return None
    name = os.fsdecode(executable)
    return shutil.which(name) or name


def _brief(args: tuple[Any, ...]) -> str:
    return repr(tuple(args))[:120]
