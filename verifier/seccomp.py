"""A seccomp filter for the sandbox: no sockets of any family, no io_uring, no fork; threads
stay allowed, and with ``allow_spawn`` so does vfork-and-exec (how ``subprocess`` and
``posix_spawn`` start a program: Landlock then decides which programs may run).

Landlock covers TCP only; this closes UDP, raw, netlink and unix sockets (a unix socket such
as the Docker daemon's is a way out) and io_uring (which could open sockets past the filter).
Denied calls fail with EACCES/EPERM; nothing is killed. x86_64 and aarch64 only.
"""

from __future__ import annotations

import ctypes
import errno
import platform
from dataclasses import dataclass

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_W_ABS = 0x20
_JEQ, _JGE, _JSET = 0x15, 0x35, 0x45
_RET = 0x06
_CLONE_THREAD = 0x00010000
_CLONE_VFORK = 0x00004000
_X32_BIT = 0x40000000


@dataclass(frozen=True)
class _Arch:
    audit: int
    socket: int
    io_uring_setup: int
    clone: int
    clone3: int
    fork: int | None
    vfork: int | None


_ARCHES = {
    "x86_64": _Arch(0xC000003E, 41, 425, 56, 435, 57, 58),
    "aarch64": _Arch(0xC00000B7, 198, 425, 220, 435, None, None),
}

_libc = ctypes.CDLL(None, use_errno=True)


class SeccompError(OSError):
    """The filter could not be installed."""


class _Instruction(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


def supported() -> bool:
    return platform.system() == "Linux" and platform.machine() in _ARCHES


def set_no_new_privs() -> None:
    """Neither this process nor its children can gain privileges through exec (setuid files,
    file capabilities); required before Landlock or seccomp without CAP_SYS_ADMIN."""
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise SeccompError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {errno.errorcode.get(err, err)}")


def _program(
    arch: _Arch, allow_spawn: bool, allow_sockets: bool = False
) -> list[tuple[int, int | str, int | str, int]]:
    """The filter as (code, jump-if-true, jump-if-false, k); jumps name labels or offsets."""
    deny_errno = _RET_ERRNO | errno.EACCES
    ops: list[tuple[int, int | str, int | str, int]] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 0, "deny", arch.audit),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (_JGE, "deny", 0, _X32_BIT),
        *([] if allow_sockets else [(_JEQ, "deny", 0, arch.socket)]),
        (_JEQ, "deny", 0, arch.io_uring_setup),
    ]
    forks = (arch.fork,) if allow_spawn else (arch.fork, arch.vfork)
    ops += [(_JEQ, "deny_process", 0, n) for n in forks if n is not None]
    ops += [
        (_JEQ, "no_clone3", 0, arch.clone3),  # ENOSYS: libc falls back to clone
        (_JEQ, 0, "allow", arch.clone),
        (_LD_W_ABS, 0, 0, 16),  # clone's flags (low 32 bits of args[0])
        (_JSET, "allow", "deny_process", _CLONE_THREAD | (_CLONE_VFORK if allow_spawn else 0)),
    ]
    labels = {
        "allow": _RET_ALLOW,
        "deny": deny_errno,
        "deny_process": _RET_ERRNO | errno.EPERM,
        "no_clone3": _RET_ERRNO | errno.ENOSYS,
    }
    tail = [(_RET, 0, 0, k) for k in labels.values()]
    where = {name: len(ops) + i for i, name in enumerate(labels)}

    def offset(index: int, target: int | str) -> int:
        return target if isinstance(target, int) else where[target] - index - 1

    resolved = [(code, offset(i, jt), offset(i, jf), k) for i, (code, jt, jf, k) in enumerate(ops)]
    return [*resolved, *tail]


def install(allow_spawn: bool, allow_sockets: bool = False) -> None:
    """Installs the filter on this thread and every thread or process it starts later."""
    arch = _ARCHES[platform.machine()]
    instructions = _program(arch, allow_spawn, allow_sockets)
    array = (_Instruction * len(instructions))(*[_Instruction(*op) for op in instructions])
    program = _Program(len(instructions), array)
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        err = ctypes.get_errno()
        raise SeccompError(err, f"prctl(PR_SET_SECCOMP): {errno.errorcode.get(err, err)}")
