"""``python -m verifier.verify_command`` as a subprocess: exit codes, human and JSON output."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ADVERSARIAL, GOOD, HERE


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifier.verify_command", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE.parent.parent,
    )


def test_pass_json_and_reject_exit_codes() -> None:
    ok = run_cli(str(HERE / "ref_swish.py"), str(GOOD / "swish.py"), "--trials", "2", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["passed"] is True
    bad = run_cli(str(HERE / "ref_swish.py"), str(ADVERSARIAL / "torch_op.py"))
    assert bad.returncode == 1
    assert "REJECTED at stage static" in bad.stdout and "line" in bad.stdout


def test_bad_input_exits_2_with_one_line() -> None:
    missing = run_cli(str(HERE / "ref_swish.py"), str(HERE / "no_such_file.py"))
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "cannot read candidate" in missing.stderr
    not_task = run_cli(str(GOOD / "swish.py"), str(GOOD / "swish.py"))
    assert not_task.returncode == 2 and "no Model" in not_task.stderr
    usage = run_cli(str(HERE / "ref_swish.py"))
    assert usage.returncode == 2 and usage.stderr.strip().count("\n") == 0


def test_framework_read_from_the_reference_when_not_given() -> None:
    """A NumPy reference verifies with no --framework (read from its code, not run)."""
    ok = run_cli(str(HERE / "ref_swish_numpy.py"), str(GOOD / "swish.py"), "--trials", "1")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    forced = run_cli(
        str(HERE / "ref_swish_numpy.py"), str(GOOD / "swish.py"), "--framework", "torch"
    )
    assert forced.returncode != 0  # the flag still wins: a NumPy task is not a torch one
