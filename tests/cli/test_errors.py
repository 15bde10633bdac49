"""Every bad-input path of the CLI: one line on stderr, exit 2, nothing recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import REPO

SWISH = str(REPO / "examples" / "swish.py")


def one_line_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_task_file(aikg) -> None:
    one_line_error(aikg("run", "nope.py"), "nope.py", "not found")


def test_task_file_without_model(aikg, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def get_inputs():\n    return []\n")
    one_line_error(aikg("run", str(bad)), "Model", "get_init_inputs")


def test_task_file_with_syntax_error(aikg, tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("class Model(:\n")
    one_line_error(aikg("run", str(bad)), "syntax error", "line 1")


def test_unreadable_task_file(aikg, tmp_path: Path) -> None:
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    one_line_error(aikg("run", str(binary)), "cannot read")


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (["--backend", "tpu"], ["backend 'tpu'", "cuda, cpu, ascend"]),
        (["--impl-type", "cuda_c"], ["impl_type 'cuda_c'"]),
        (["--framework", "jax"], ["framework 'jax'"]),
        (["--task-type", "fast"], ["task_type 'fast'"]),
        (["--impl-type", "swft"], ["swft", "ascend"]),
        (["--arch", "h100"], ["arch 'h100'", "cpu"]),
        (["--backend", "ascend"], ["torch_npu"]),
        (["--limit-steps", "0"], ["limit_steps"]),
        (["--limit-steps", "x"], ["invalid int value"]),
        (["--devices", "gpu:0"], ["bad device 'gpu:0'"]),
        (["--llm", "nonsense"], ["--llm nonsense"]),
        (["--no-such-flag"], ["unrecognized arguments"]),
    ],
)
def test_bad_flags(aikg, tmp_path: Path, flags: list[str], needles: list[str]) -> None:
    one_line_error(aikg("run", SWISH, *flags), *needles)
    assert not (tmp_path / "events.db").exists()


def test_invalid_config(aikg, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("verifier:\n  trails: 3\n")
    one_line_error(aikg("run", SWISH, "--config", str(config)), "unknown key", "verifier.trails")
    config.write_text("verifier:\n  mode: fast\n")
    one_line_error(aikg("run", SWISH, "--config", str(config)), "verifier.mode")
    config.write_text("verifier: [\n")
    one_line_error(aikg("run", SWISH, "--config", str(config)), "not valid YAML")
    one_line_error(
        aikg("run", SWISH, "--config", str(tmp_path / "missing.yaml")), "cannot read config"
    )


def test_not_an_aikg_database(aikg, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"this is not sqlite" * 100)
    before = foreign.read_bytes()
    one_line_error(aikg("run", SWISH, "--db", str(foreign)), str(foreign))
    one_line_error(aikg("ls", "--db", str(foreign)), str(foreign))
    assert foreign.read_bytes() == before


def test_show_and_export_unknown_task(aikg) -> None:
    one_line_error(aikg("show", "nope"), "no event log")
    one_line_error(aikg("export", "nope"), "no event log")


def test_help_teaches(aikg) -> None:
    proc = aikg("--help")
    assert proc.returncode == 0
    assert "aikg run examples/swish.py" in proc.stdout
    proc = aikg("run", "--help")
    assert proc.returncode == 0 and "--limit-steps" in proc.stdout
