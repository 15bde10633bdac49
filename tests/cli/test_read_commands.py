"""Commands that only read the log: fast to start, quiet when their reader goes away,
and values a person reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aikg.readable import readable
from machine.describe import launch_config_text
from tests.cli.conftest import REPO
from tests.support.canned_log import CANNED_TASKS

HEAVY = ("torch", "triton", "numpy", "textual", "openai", "pydantic", "yaml")

# Runs several commands in one interpreter, then names the heavy packages they loaded.
PROBE = """
import contextlib, io, json, os, sys
from aikg.cli import main
codes = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        codes.append(main(argv))
read_end, write_end = os.pipe()
os.close(read_end)
with contextlib.redirect_stdout(os.fdopen(write_end, "w", buffering=1)):  # reader gone
    codes.append(main(json.loads(sys.argv[1])[0]))
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"codes": codes, "loaded": loaded}), file=sys.__stdout__)
"""


def test_reading_commands_load_no_framework(canned_log: Path) -> None:
    db = ["--db", str(canned_log)]
    commands = [
        ["ls", *db],
        ["ls", "--json", *db],
        ["show", "softmax-1", "--code", *db],
        ["show", "nope", *db],
        ["db", "check", *db],
        ["run", "--help"],
        ["run", "task.py", "--no-such-flag"],
        ["ls", "--db", str(canned_log.parent / "missing.db")],
    ]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(commands), json.dumps(HEAVY)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(proc.stdout)
    assert report["codes"] == [0, 0, 0, 2, 0, 0, 2, 2, 141]
    assert report["loaded"] == [], f"a reading command imported {report['loaded']}"


@pytest.mark.parametrize(
    "args",
    [
        ["ls"],
        ["ls", "--json"],
        ["show", "softmax-1", "--code"],
        ["show", "softmax-1", "--json"],
        ["db", "export"],
    ],
)
def test_closed_pipe_is_no_error(canned_log: Path, args: list[str]) -> None:
    """`aikg ls | head -1`: the reader left before aikg wrote; no traceback, exit 141."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "aikg", *args],
            cwd=REPO,
            env={**os.environ, "AIKG_DB": str(canned_log)},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141


@pytest.mark.parametrize("task_id", CANNED_TASKS)
def test_show_prints_no_python_reprs(aikg, canned_log: Path, task_id: str) -> None:
    proc = aikg("show", task_id, "--db", str(canned_log))
    assert proc.returncode == 0, proc.stderr
    assert task_id in proc.stdout
    for repr_only in ("None", "{'", "[{", "True", "False"):
        assert repr_only not in proc.stdout, proc.stdout


def test_readable_values() -> None:
    assert readable(None) == "-"
    assert readable(True) == "yes"
    assert readable(2 / 3) == "0.6667"
    assert (
        launch_config_text({"BLOCK_SIZE": 1024, "num_warps": 4}) == "BLOCK_SIZE=1024, num_warps=4"
    )
