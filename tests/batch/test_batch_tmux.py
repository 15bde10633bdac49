"""`aikg batch` on a terminal (a tmux pane): the live block drawn in place, then gone."""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.batch.test_batch_cli import RELU
from tests.support.tmux import kill_server, start, wait_for, wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "relu3.py").write_text(RELU)
    command = shlex.join([sys.executable, "-m", "aikg", "batch", "relu3.py", "--limit-steps", "2"])
    db = shlex.quote(str(tmp_path / "events.db"))
    shell = (
        f"cd {shlex.quote(str(tmp_path))} && env -u COLUMNS -u LINES AIKG_DB={db} {command}; "
        "echo EXIT=$?; sleep 60"
    )
    start("batch", shell, width=150, height=30)
    try:
        yield "batch"
    finally:
        kill_server()


def test_batch_progress_is_drawn_in_place_on_a_terminal(pane: str) -> None:
    live = wait_until(pane, lambda shown: "0/1 done, 0 verified" in shown, timeout_s=90)
    assert "ETA --" in live and "elapsed" in live
    running = next(line for line in live.splitlines() if line.startswith("relu3-"))
    assert "step " in running and "/2" in running  # the running task, its state and step
    assert "━" in live  # rich's bar
    final = wait_for(pane, "EXIT=0", timeout_s=120)
    assert final.count("[1/1] verified") == 1, final
    assert "1/1 done, 1 verified" in final and "ETA 0s" in final
    assert "0/1 done" not in final and "━" not in final  # the live block went away
    assert "1/1 verified" in final  # the summary table
