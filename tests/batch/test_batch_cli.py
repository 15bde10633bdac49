"""`aikg batch` as a user runs it: a real subprocess on a folder of task files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import EventStore
from store.errors import StoreNotFound
from tests.support.signals import default_sigint

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SWISH = (REPO / "examples" / "swish.py").read_text()
RELU = """import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x) * 3.0


def get_inputs():
    return [torch.randn(64, 32)]


def get_init_inputs():
    return []
"""


def write_tasks(folder: Path) -> None:
    (folder / "nested").mkdir(parents=True)
    (folder / "swish.py").write_text(SWISH)
    (folder / "nested" / "relu3.py").write_text(RELU)
    (folder / "fft.py").write_text(
        SWISH.replace("x * torch.sigmoid(self.beta * x)", "torch.fft.fft(x).real")
    )
    (folder / "helpers.py").write_text("SCALE = 3\n")  # no class Model: not a task


def aikg(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AIKG_DB": str(tmp_path / "events.db")}
    return subprocess.Popen(
        [sys.executable, "-m", "aikg", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )


def test_batch_runs_each_file_and_fails_on_the_unsupported_one(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks")
    proc = aikg(tmp_path, "batch", "tasks", "--devices", "cpu:0,cpu:1", "--limit-steps", "2")
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 1, err
    assert "2/3 verified" in out
    rows = {line.split()[1].rsplit("-", 3)[0]: line.split()[0] for line in out.splitlines()[1:4]}
    assert rows == {"fft": "failed", "relu3": "verified", "swish": "verified"}
    assert "aten._fft_r2c" in out
    assert "[3/3]" in err and "\x1b[" not in err  # plain lines when stderr is not a terminal


def test_batch_json_and_missing_path(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks")
    proc = aikg(tmp_path, "batch", "tasks/fft.py", "tasks/helpers.py", "--json", "-q")
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 1, err
    fft, helpers = json.loads(out)
    assert fft["result"] == "failed" and fft["reason"] == "unsupported" and err == ""
    assert helpers["result"] == "error" and "Model" in helpers["error"]
    proc = aikg(tmp_path, "batch", "nowhere")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == (
        "aikg: error: nowhere not found: pass task files or directories holding them"
    )


async def test_ctrl_c_interrupts_every_task_and_resume_all_finishes(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(2):
        (folder / f"relu_{i}.py").write_text(RELU)
    proc = aikg(tmp_path, "batch", "many", "--concurrency", "1", "--limit-steps", "1")
    db = tmp_path / "events.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not await _any_started(db):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "aikg resume --all" in err
    async with await EventStore.open(db, readonly=True) as store:
        tasks = [s.stream for s in await store.streams() if s.stream != "devices"]
        assert len(tasks) == 2
        for stream in tasks:
            types = [e.type for e in await store.read_stream(stream)]
            assert "task.interrupted" in types and "task.finished" not in types
    resumed = aikg(tmp_path, "resume", "--all", "-q")
    out, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err
    assert out.count("verified: relu_") == 2


async def test_tasks_sharing_one_device_verify_side_by_side_and_time_alone(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "relu3.py").write_text(RELU)
    (folder / "relu2.py").write_text(RELU.replace("* 3.0", "* 2.0"))
    proc = aikg(
        tmp_path, "batch", "shared", "--devices", "cpu", "--capacity", "2",
        "--task-type", "profile", "--limit-steps", "1", "-q",
    )  # fmt: skip
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    async with await EventStore.open(tmp_path / "events.db", readonly=True) as store:
        finished = [
            e.payload["result"]
            for s in await store.streams()
            for e in await store.read_stream(s.stream)
            if e.type == "verify.finished"
        ]
    assert len(finished) == 2 and all(result["passed"] for result in finished)
    first, second = ([tuple(span) for span in r["device_spans"]] for r in finished)
    assert _overlap(_extent(first), _extent(second))  # both jobs were on the device at once
    for job, other in ((first, second), (second, first)):
        timed = [(a, b) for mode, a, b in job if mode == "exclusive"]
        used = [(a, b) for mode, a, b in other if mode in ("shared", "exclusive")]
        assert timed and not any(_overlap(t, u) for t in timed for u in used)


def _extent(spans: list[tuple[str, float, float]]) -> tuple[float, float]:
    return spans[0][1], spans[-1][2]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


async def _any_started(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        async with await EventStore.open(db, readonly=True) as store:
            return any(s.n_events > 1 and s.stream != "devices" for s in await store.streams())
    except StoreNotFound:  # the file exists but the command has not written its schema yet
        return False
