"""Subprocesses that take Ctrl-C as from a terminal, however pytest itself was started."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """A `preexec_fn`: SIGINT back at its default. A shell's `cmd &` starts pytest with
    SIGINT ignored, an ignore that survives exec, so a child would never see the test's
    Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
