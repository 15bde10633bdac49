# ruff: noqa  (deliberately hostile: test_sandbox.py makes it part of a task file)
"""Opens a TCP connection to a port on this machine, the module found through another."""

import logging.handlers as handlers


def _attack():
    try:
        net = getattr(handlers, "sock" + "et")
        conn = net.create_connection(("127.0.0.1", __PORT__), timeout=2)
        conn.sendall(b"escaped")
    except OSError:
        pass
