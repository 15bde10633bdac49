# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Writes a file outside the worker's folder, the name looked up dynamically."""

import os


def _attack():
    try:
        with getattr(__builtins__, "get", lambda n: open)("op" + "en")("__TARGET__", "w") as out:
            out.write("escaped")
    except OSError:
        pass
