"""`aikg db import` appends events and runs nothing; it says which imported tasks resuming
would run."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from tests.store.scripts.task_starter import created as created_event


def aikg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aikg", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_import_runs_no_code_and_names_the_tasks_resuming_would_run(tmp_path: Path) -> None:
    marker = tmp_path / "the-imported-code-ran"
    created = replace(
        created_event("imported-1"),
        task_desc=f"open({str(marker)!r}, 'w').close()\nclass Model: ...\n",
    )
    record = {"stream": "imported-1", "seq": 1, "type": created.TYPE, "version": created.VERSION}
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({**record, "ts": 1.0, "payload": created.to_payload()}) + "\n")
    db = str(tmp_path / "events.db")

    imported = aikg("db", "import", str(log), "--db", db, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.splitlines()[-1] == (
        f"aikg: note: unfinished imported tasks: imported-1; resuming one runs the code stored "
        f"in {log} (and `aikg resume --all` resumes them all): do so only if you trust that file"
    )
    for reading in (["ls"], ["show", "imported-1"], ["db", "check"]):
        assert aikg(*reading, "--db", db, cwd=tmp_path).returncode == 0
    assert not marker.exists()
