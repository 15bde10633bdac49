"""Kernel-enforced confinement of a process that is about to run untrusted code.

``confine(policy)`` is called once, early, by any process before it loads untrusted code
(the verifier's worker at start-up, the built-in agent's reference tracer) and before it
starts threads (Landlock and seccomp bind the calling thread and what it starts later):

- Landlock (Linux >= 5.13): reads, writes and executions only beneath the policy's paths;
  no TCP bind/connect (ABI >= 4); no signals to, or abstract unix sockets of, processes
  outside the sandbox (ABI >= 6).
- seccomp: no sockets of any family, no io_uring, no fork; with ``allow_spawn``, programs
  the policy lets run may be started (vfork + exec, as ``subprocess`` does); threads allowed.
  A CUDA process (``gpu``) may open unix sockets until it calls ``seccomp.close_sockets()``
  once CUDA is up (the driver opens one as it starts), and may write its own /proc entries.
- capabilities dropped (root keeps its uid but loses CAP_SYS_ADMIN, CAP_KILL, CAP_DAC_*…),
  no_new_privs, and resource limits: open files, CPU seconds, processes (the kernel exempts
  uid 0 from the last, which is why forking is denied outright).

What it manages is returned as a ``SandboxReport``; ``plan(mode)`` says the same without
confining (for a notice, or ``--require-sandbox``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
from dataclasses import asdict, dataclass, field
from pathlib import Path

from verifier import landlock, seccomp

MODES = ("auto", "landlock", "off")
# what a GPU process's report enforces when seccomp lets unix sockets through until
# ``seccomp.close_sockets()`` (sandbox_worker.close_sockets_once_cuda_is_up reads it)
SOCKETS_AFTER_CUDA = "sockets once CUDA is up"
# Measured on an H200 (driver 580, CUDA 13; benchmarks/gpu/sandbox_probe.py): CUDA starts
# (no Error 304) only when the process may write its own /proc entries and open one unix
# socket (``@cuda-uvmfd-…``, abstract, its own). The GPU policy grants exactly that.


class SandboxError(RuntimeError):
    """The sandbox asked for cannot be set up here; the message names the fix."""


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(path))


def beneath(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


@dataclass(frozen=True)
class SandboxPolicy:
    """What a confined process may touch. Paths are granted with everything beneath them."""

    read: tuple[str, ...] = ()  # read files and list folders
    write: tuple[str, ...] = ()  # read, create, write, remove
    execute: tuple[str, ...] = ()  # run programs (read too)
    devices: tuple[str, ...] = ()  # open for reading and writing, ioctl (/dev/null, GPUs)
    list_only: tuple[str, ...] = ()  # list names, read no file (a package's parent folder)
    allow_spawn: bool = False  # start ``execute`` programs (the GPU toolchain); never fork
    # processes+threads beyond the user's count at confinement (not for root): wide, since
    # the user's other processes count too (other workers' torch threads on a many-core
    # host); the fork ban is the wall, this only bounds a thread bomb
    process_headroom: int = 4096
    open_files: int | None = 4096
    cpu_time_s: float | None = None  # CPU seconds for this process from now on
    mode: str = "auto"  # auto | landlock | off
    gpu: bool = False  # a CUDA process: its /proc entries writable, unix sockets until closed

    def allows_read(self, path: str | os.PathLike[str]) -> bool:
        real = _real(path)
        return beneath(real, self._readable())

    def allows_write(self, path: str | os.PathLike[str]) -> bool:
        real = _real(path)
        return beneath(real, tuple(_real(p) for p in (*self.write, *self.devices)))

    def allows_execute(self, path: str | os.PathLike[str]) -> bool:
        return beneath(_real(path), tuple(_real(p) for p in self.execute))

    def _readable(self) -> tuple[str, ...]:
        every = (*self.read, *self.write, *self.execute, *self.devices)
        return tuple(_real(p) for p in every)

    def rules(self) -> list[landlock.PathRule]:
        granted = [
            *(landlock.PathRule(p, landlock.READ_DIR) for p in self.list_only),
            *(landlock.PathRule(p, landlock.READ) for p in self.read),
            *(landlock.PathRule(p, landlock.READ | landlock.EXECUTE) for p in self.execute),
            *(landlock.PathRule(p, landlock.READ | landlock.WRITE) for p in self.write),
        ]
        device_access = landlock.READ_FILE | landlock.WRITE_FILE | landlock.IOCTL_DEV
        granted += [landlock.PathRule(p, device_access | landlock.READ_DIR) for p in self.devices]
        if self.gpu:  # resolved as the rule is added: the confining process's own entries
            # (procfs creates no files: of WRITE only writing and truncating can apply)
            granted.append(landlock.PathRule("/proc/self", landlock.READ | landlock.WRITE))
        return granted


@dataclass(frozen=True)
class SandboxReport:
    """What confinement is in force (or would be, from ``plan``)."""

    mechanism: str  # landlock | none | off
    landlock_abi: int = 0
    enforced: tuple[str, ...] = field(default_factory=tuple)  # e.g. files, tcp, sockets
    reason: str = ""  # why there is less than asked for

    @property
    def confined(self) -> bool:
        return self.mechanism == "landlock"

    def describe(self) -> str:
        if self.mechanism == "off":
            return "sandbox off (verifier.sandbox: off): static check only"
        if not self.confined:
            extra = f"; partial: {', '.join(self.enforced)}" if self.enforced else ""
            return f"no kernel sandbox ({self.reason}){extra}: static check only"
        return f"sandbox: landlock ABI {self.landlock_abi} ({', '.join(self.enforced)})"

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "enforced": list(self.enforced)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> SandboxReport:
        enforced = data.get("enforced") or ()
        return cls(
            mechanism=str(data.get("mechanism", "none")),
            landlock_abi=int(data.get("landlock_abi", 0) or 0),  # type: ignore[arg-type]
            enforced=tuple(str(e) for e in enforced),  # type: ignore[union-attr]
            reason=str(data.get("reason", "")),
        )


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise SandboxError(f"verifier.sandbox: {mode!r} is not a mode; use one of {MODES}")


def plan(mode: str = "auto", gpu: bool = False) -> SandboxReport:
    """What ``confine`` would enforce on this machine under ``mode``, without confining;
    ``gpu`` for a process that will use CUDA."""
    _check_mode(mode)
    if mode == "off":
        return SandboxReport("off")
    abi = landlock.abi_version()
    sockets = SOCKETS_AFTER_CUDA if gpu else "sockets"
    helpers = [sockets, "processes", "limits"] if seccomp.supported() else ["limits"]
    if abi == 0:
        reason = "this kernel has no Landlock: Linux >= 5.13 with landlock in its LSM list"
        if mode == "landlock":
            raise SandboxError(f"verifier.sandbox: landlock: {reason}; use auto or off")
        return SandboxReport("none", 0, tuple(helpers), reason)
    kinds = ["files", *(["tcp"] if abi >= 4 else []), *(["signals"] if abi >= 6 else [])]
    return SandboxReport("landlock", abi, (*kinds, *helpers))


def confine(policy: SandboxPolicy) -> SandboxReport:
    """Confines this process for good, as ``policy`` says; returns what is enforced.

    Raises ``SandboxError`` when ``policy.mode`` is ``landlock`` and Landlock is missing, or
    when the process already runs threads (they would stay unconfined).
    """
    report = plan(policy.mode, policy.gpu)
    if report.mechanism == "off":
        return report
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    if threads > 1:
        raise SandboxError(
            f"confine() must run before the process starts threads ({threads} running): "
            "call it before importing torch"
        )
    _limit_resources(policy)
    _drop_capabilities()
    if seccomp.supported():
        seccomp.set_no_new_privs()
        seccomp.install(policy.allow_spawn, allow_unix_sockets=policy.gpu)
    if report.confined:
        landlock.restrict_self(policy.rules(), report.landlock_abi)
    return report


def _set_limit(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _limit_resources(policy: SandboxPolicy) -> None:
    if policy.open_files:
        _set_limit(resource.RLIMIT_NOFILE, policy.open_files)
    if policy.cpu_time_s:
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = used.ru_utime + used.ru_stime
        _set_limit(resource.RLIMIT_CPU, int(spent + policy.cpu_time_s) + 1)
    # RLIMIT_NPROC counts every task (process or thread) of the real user; the kernel does
    # not enforce it for uid 0 or a holder of CAP_SYS_ADMIN/CAP_SYS_RESOURCE.
    if os.path.isdir("/proc"):  # elsewhere the user's count is unknown: leave the limit
        _set_limit(resource.RLIMIT_NPROC, _tasks_of_user(os.getuid()) + policy.process_headroom)


def _tasks_of_user(uid: int) -> int:
    """Processes and threads whose real uid is ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            status = Path(entry.path, "status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
    return count


_libc = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_CAP_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _drop_capabilities() -> None:
    """Root (or a process with file capabilities) keeps its uid but loses every capability,
    for itself and for any program it runs. A no-op for an ordinary user."""
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return
    for cap in range(last + 1):
        _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # needs CAP_SETPCAP; fails harmlessly
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(_CAP_VERSION_3, 0)
    empty = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), empty) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"cannot drop capabilities: {os.strerror(err)}")
