"""A small ctypes binding of Linux Landlock: file-system, TCP and scope rules for this process.

Why our own binding: the `landlock` package on PyPI covers file-system rules only (no TCP
port rules, no signal or abstract-socket scopes), and the kernel interface is three system
calls. Everything here is a no-op answer (``abi_version() == 0``) where Landlock is missing.

Rules, once ``restrict_self`` is called, bind this process and every child it starts, for
good; they also bind root.
"""

from __future__ import annotations

import ctypes
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same on every arch
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

READ = READ_FILE | READ_DIR
WRITE = (
    WRITE_FILE
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SYM
    | MAKE_FIFO
    | MAKE_SOCK
    | REFER
    | TRUNCATE
)
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # rights a file rule may hold


class LandlockError(OSError):
    """Landlock refused a step; the message names which."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(number: int, *args: object) -> int:
    result = _libc.syscall(number, *args)
    if result < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, os.strerror(err))
    return int(result)


def abi_version() -> int:
    """The kernel's Landlock ABI (0: none — not Linux, too old, or disabled at boot)."""
    if platform.system() != "Linux":
        return 0
    try:
        return _syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except LandlockError:
        return 0


def fs_rights(abi: int) -> int:
    """Every file-system right the kernel at ``abi`` can restrict."""
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


@dataclass(frozen=True)
class PathRule:
    path: str
    access: int  # Landlock file-system rights allowed beneath ``path``


def restrict_self(rules: Iterable[PathRule], abi: int) -> list[str]:
    """Denies this process every file-system right not granted by ``rules``, all TCP binds
    and connects (ABI >= 4), and signals and abstract unix sockets to processes outside the
    sandbox (ABI >= 6). Missing paths are skipped. The caller sets no_new_privs first
    (``seccomp.set_no_new_privs``). Returns what is enforced, in words."""
    handled_fs = fs_rights(abi)
    attr = _RulesetAttr(handled_fs, 0, 0)
    size = 8
    enforced = ["files"]
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
        enforced.append("tcp")
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
        enforced.append("signals")
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    try:
        for rule in rules:
            _add_path_rule(ruleset, rule, handled_fs)
        _syscall(_SYS_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)
    return enforced


def _add_path_rule(ruleset: int, rule: PathRule, handled: int) -> None:
    try:
        fd = os.open(rule.path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        access = rule.access & handled
        if not os.path.isdir(rule.path):
            access &= FILE_ONLY
        if not access:
            return
        attr = _PathBeneathAttr(access, fd)
        try:
            _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(attr), 0)
        except LandlockError as exc:
            raise LandlockError(exc.errno, f"cannot add a rule for {rule.path}: {exc}") from None
    finally:
        os.close(fd)
