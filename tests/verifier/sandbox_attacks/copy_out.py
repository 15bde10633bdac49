# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Copies a readable file (its own task file) to a folder outside the sandbox."""

import os


def _attack():
    try:
        data = open(__file__).read()
        fd = os.open("__TARGET__", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, data.encode())
        os.close(fd)
    except OSError:
        pass
