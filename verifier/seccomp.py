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
_AF_UNIX = 1


@dataclass(frozen=True)
class _Arch:
    audit: int
    socket: int
    io_uring_setup: int
    clone: int
    clone3: int
    fork: int | None
    vfork: int | None
    seccomp: int
    # every other way to reach a socket: socketpair, connect, bind, listen, accept, accept4,
    # sendto, sendmsg, sendmmsg
    socket_calls: tuple[int, ...]


_ARCHES = {
    "x86_64": _Arch(
        0xC000003E, 41, 425, 56, 435, 57, 58, 317, (53, 42, 49, 50, 43, 288, 44, 46, 307)
    ),
    "aarch64": _Arch(
        0xC00000B7,
        198,
        425,
        220,
        435,
        None,
        None,
        277,
        (199, 203, 200, 201, 202, 242, 206, 211, 269),
    ),
}
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
# (code, jump-if-true, jump-if-false, k); a jump is an offset or the name of a return
_Op = tuple[int, int | str, int | str, int]

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
    arch: _Arch, allow_spawn: bool, allow_unix_sockets: bool = False
) -> list[tuple[int, int, int, int]]:
    """The first stage's filter as (code, jump-if-true, jump-if-false, k)."""
    deny_errno = _RET_ERRNO | errno.EACCES
    ops: list[_Op] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 0, "deny", arch.audit),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (_JGE, "deny", 0, _X32_BIT),
        *_socket_rule(arch, allow_unix_sockets),
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
    return _assemble(ops, labels)


def _assemble(ops: list[_Op], labels: dict[str, int]) -> list[tuple[int, int, int, int]]:
    """``ops`` followed by one return per label; a jump to a label becomes an offset."""
    where = {name: len(ops) + i for i, name in enumerate(labels)}

    def offset(index: int, target: int | str) -> int:
        return target if isinstance(target, int) else where[target] - index - 1

    resolved = [(code, offset(i, jt), offset(i, jf), k) for i, (code, jt, jf, k) in enumerate(ops)]
    return [*resolved, *[(_RET, 0, 0, k) for k in labels.values()]]


def _socket_rule(arch: _Arch, allow_unix: bool) -> list[_Op]:
    """socket() denied; with ``allow_unix``, of the AF_UNIX family allowed (the CUDA driver
    opens one as it starts; ``close_sockets`` then shuts them too)."""
    if not allow_unix:
        return [(_JEQ, "deny", 0, arch.socket)]
    return [
        (_JEQ, 0, 2, arch.socket),
        (_LD_W_ABS, 0, 0, 16),  # socket's family (args[0])
        (_JEQ, "allow", "deny", _AF_UNIX),
    ]


def _socket_ban(arch: _Arch) -> list[tuple[int, int, int, int]]:
    """The second stage: no socket of any family, and no use of one already open."""
    ops: list[_Op] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 0, "allow", arch.audit),  # the first stage denies other arches already
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        *[(_JEQ, "deny", 0, n) for n in (arch.socket, *arch.socket_calls)],
    ]
    return _assemble(ops, {"allow": _RET_ALLOW, "deny": _RET_ERRNO | errno.EACCES})


def _program_struct(instructions: list[tuple[int, int, int, int]]) -> _Program:
    array = (_Instruction * len(instructions))(*[_Instruction(*op) for op in instructions])
    return _Program(len(instructions), array)


def install(allow_spawn: bool, allow_unix_sockets: bool = False) -> None:
    """Installs the filter on this thread and every thread or process it starts later."""
    arch = _ARCHES[platform.machine()]
    program = _program_struct(_program(arch, allow_spawn, allow_unix_sockets))
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        err = ctypes.get_errno()
        raise SeccompError(err, f"prctl(PR_SET_SECCOMP): {errno.errorcode.get(err, err)}")


def close_sockets() -> None:
    """Denies every socket call from now on, to every thread of this process (TSYNC).

    A GPU worker's first stage allows unix sockets because the CUDA driver opens one as it
    starts (``@cuda-uvmfd-…``, measured on an H200); once CUDA is up, this closes them too,
    before any candidate loads. Filters stack: this one only narrows the first."""
    arch = _ARCHES[platform.machine()]
    program = _program_struct(_socket_ban(arch))
    flags = _SECCOMP_FILTER_FLAG_TSYNC
    result = _libc.syscall(arch.seccomp, _SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(program))
    if result != 0:
        err = ctypes.get_errno()
        why = errno.errorcode.get(err, err) if result < 0 else f"thread {result} cannot sync"
        raise SeccompError(err, f"seccomp(SET_MODE_FILTER, TSYNC): {why}")
