# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Runs a shell command that would write outside the sandbox."""

import os


def _attack():
    try:
        getattr(os, "sys" + "tem")("echo escaped > __TARGET__")
    except OSError:
        pass
