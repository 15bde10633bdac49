# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Writes outside the sandbox through libc directly, where no Python audit hook sees it."""

import ctypes


def _attack():
    libc = ctypes.CDLL(None)
    fd = libc.open(b"__TARGET__", 0o1 | 0o100, 0o644)
    if fd >= 0:
        libc.write(fd, b"escaped", 7)
        libc.close(fd)
