"""`aikg doctor` on this (CPU-only) machine: what it reports, and when it says not ready."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import torch
import triton

from tests.support.openai_server import ScriptedOpenAIServer


def doctor(tmp_path: Path, db: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIKG_DB": str(db), "AIKG_DOCTOR_KEY": "k"}
    return subprocess.run(
        [sys.executable, "-m", "aikg", "doctor", *flags],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_doctor_on_the_cpu_says_interpreter_and_ready(tmp_path: Path) -> None:
    proc = doctor(tmp_path, tmp_path / "events.db")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.strip() for line in proc.stdout.splitlines()[1:] if line.startswith("  ")]
    lines = dict(re.split(r"\s{2,}", row, maxsplit=1) for row in rows)
    assert lines["torch"] == torch.__version__
    assert lines["triton"] == triton.__version__
    assert "cpu only" in lines["devices"]
    assert lines["triton mode"].startswith("interpreter (TRITON_INTERPRET=1)")
    assert "not created yet" in proc.stdout and str(tmp_path / "events.db") in proc.stdout
    assert "builtin (no endpoint needed)" in proc.stdout
    assert "matplotlib" in proc.stdout and "ray" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("ready: ")


def test_doctor_names_a_broken_event_log_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a regular file\n")
    broken = tmp_path / "plain" / "events.db"
    with ScriptedOpenAIServer() as server:
        llm = ["--llm", "openai", "--llm-base-url", server.base_url, "--llm-model", "m"]
        proc = doctor(tmp_path, broken, *llm, "--llm-api-key-env", "AIKG_DOCTOR_KEY")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert last.startswith("not ready: event log: cannot write the event log"), last
    assert f"{tmp_path / 'plain'} is a file, not a directory" in last
    assert f"{server.base_url} model m: answers" in proc.stdout  # the endpoint was asked
