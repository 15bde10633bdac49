# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Reads a file in the home folder and, if it could, leaks it through its error message."""

import os


def _attack():
    try:
        secret = open(os.path.expanduser("~/secret.txt")).read()
    except OSError:
        return
    raise RuntimeError(f"leaked: {secret}")
