"""Every bad-input path of the CLI: one line on stderr, exit 2, nothing recorded."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.cli.conftest import REPO
from tests.support.signals import default_sigint
from verifier.sandbox import plan
from verifier.task_framework import detect_framework

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


TORCH_MODEL = "import torch\n\n\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
BROKEN_REFERENCES = {
    "init_raises": (
        TORCH_MODEL + "        return x\n\n\ndef get_inputs():\n    return [torch.randn(4)]\n"
        "\n\ndef get_init_inputs():\n    raise ValueError('no init today')\n",
        ["get_init_inputs() raised ValueError: no init today"],
    ),
    "no_tensors": (
        TORCH_MODEL + "        return x\n\n\ndef get_inputs():\n    return [3, 'x']\n"
        "\n\ndef get_init_inputs():\n    return []\n",
        ["get_inputs() returned no tensors (int, str)"],
    ),
    # NumPy, and no --framework: the framework is read from the file, the reference runs
    "numpy_forward_raises": (
        "import numpy as np\n\n\nclass Model:\n    def forward(self, x):\n"
        "        return x @ x\n\n\ndef get_inputs():\n    return [np.ones((4, 3))]\n"
        "\n\ndef get_init_inputs():\n    return []\n",
        ["Model.forward raised ValueError: matmul", "get_inputs()'s inputs"],
    ),
}


@pytest.mark.parametrize("case", ["init_raises", "numpy_forward_raises"])
def test_broken_reference_is_bad_input(aikg, tmp_path: Path, case: str) -> None:
    source, needles = BROKEN_REFERENCES[case]
    task = tmp_path / f"{case}.py"
    task.write_text(source)
    one_line_error(aikg("run", str(task)), f"{case}.py", "reference does not run", *needles)
    assert not (tmp_path / "events.db").exists()


def test_batch_reports_a_broken_reference_without_recording_it(aikg, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    source, needles = BROKEN_REFERENCES["no_tensors"]
    (folder / "no_tensors.py").write_text(source)
    proc = aikg("batch", str(folder), "-q", "--json")
    assert proc.returncode == 1, proc.stderr
    [entry] = json.loads(proc.stdout)
    assert entry["result"] == "error"
    assert needles[0] in entry["error"]
    assert "task_id" not in entry


def test_unwritable_outputs_are_found_before_the_task_starts(aikg, tmp_path: Path) -> None:
    regular_file = tmp_path / "a-file"
    regular_file.write_text("")
    under_file = str(regular_file / "sub" / "x")
    one_line_error(aikg("run", SWISH, "-o", under_file), "cannot write -o", "not a directory")
    one_line_error(aikg("run", SWISH, "--db", under_file), "cannot write the event log", "--db")
    config = tmp_path / "c.yaml"
    config.write_text(f"export_dir: {under_file}\n")
    one_line_error(aikg("run", SWISH, "--config", str(config)), "cannot write export_dir")
    one_line_error(aikg("bench", SWISH, "--out", under_file), "cannot write --out")
    assert not (tmp_path / "events.db").exists()


def _read_only_mount_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"
    return (
        subprocess.run(["unshare", "-rm", "sh", "-c", probe], capture_output=True).returncode == 0
    )


@pytest.mark.skipif(not _read_only_mount_works(), reason="needs `unshare -rm` to mount read-only")
def test_read_only_log(tmp_path: Path, canned_log: Path) -> None:
    """In a read-only bind mount (read-only even for root): reading works, writing is refused
    in one line before anything starts."""
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(canned_log, folder / "events.db")
    aikg = f"{shlex.quote(sys.executable)} -m aikg"
    db = shlex.quote(str(folder / "events.db"))
    script = f"""
mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} || exit 99
{aikg} ls --db {db} && {aikg} show softmax-1 --db {db} || exit 98
{aikg} run {SWISH} --db {db}; echo "exit $?" >&2
{aikg} run {SWISH} --db {folder}/new.db; echo "exit $?" >&2
{aikg} export softmax-1 --db {db} -o {folder}/kernel.py; echo "exit $?" >&2
"""
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "softmax-1" in proc.stdout and "step 2: passed" in proc.stdout
    errors = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr
    assert errors[0].endswith(
        "events.db is read-only: pass --db (or set AIKG_DB) to a file in a writable directory"
    ), errors
    assert errors[1] == "exit 2"
    assert errors[2].endswith(
        f"{folder} is not writable: pass --db (or set AIKG_DB) to a file in a writable directory"
    ), errors
    assert errors[3] == "exit 2"
    assert errors[4].startswith("aikg: error: cannot write -o") and errors[5] == "exit 2"
    assert len(errors) == 6, errors


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_verify_cuda_without_cuda(aikg) -> None:
    candidate = str(REPO / "tests" / "verifier" / "good" / "swish.py")
    reference = str(REPO / "tests" / "verifier" / "ref_swish.py")
    proc = aikg("verify", reference, candidate, "--backend", "cuda")
    one_line_error(proc, "cuda:0 is not a visible CUDA device", "--backend cpu")


@pytest.mark.parametrize(
    ("example", "framework"),
    [
        ("swish.py", "torch"),
        ("numpy_softplus.py", "numpy"),
        ("mindspore_swish.py", "mindspore"),
        ("gelu_tanh.py", "torch"),
    ],
)
def test_framework_read_from_the_task_file(example: str, framework: str) -> None:
    assert detect_framework((REPO / "examples" / example).read_text()) == framework


def test_ctrl_c_while_the_reference_is_checked(tmp_path: Path) -> None:
    """Ctrl-C before the task starts: one line, exit 130, the probe's process gone. (The
    probe is sandboxed, so it cannot leave a marker file: it is found in /proc.)"""
    task = tmp_path / "slow.py"
    task.write_text(
        TORCH_MODEL + "        return x\n\n\ndef get_inputs():\n    import time\n"
        "    time.sleep(120)\n"
        "    return [torch.randn(4)]\n\n\ndef get_init_inputs():\n    return []\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "aikg", "run", str(task), "--db", str(tmp_path / "events.db")],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 60
    probe_pid = None
    while probe_pid is None and time.monotonic() < deadline and proc.poll() is None:
        probe_pid = _child_running(proc.pid, "aikg.reference_probe")
        time.sleep(0.05)
    assert probe_pid is not None, "the reference probe never started"
    time.sleep(3)  # into get_inputs()'s sleep
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "aikg: interrupted", err
    assert not (tmp_path / "events.db").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(probe_pid, 0)


def _child_running(parent: int, module: str) -> int | None:
    """The pid of a child of ``parent`` whose command line runs ``module``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and module.encode() in cmdline:
            return int(entry.name)
    return None


@pytest.mark.skipif(
    plan().mechanism != "landlock",
    reason="needs a Linux kernel with Landlock",
)
def test_reference_probe_runs_the_task_file_sandboxed(aikg, tmp_path: Path) -> None:
    """The task file is user code: its check runs confined, so a write outside the probe's
    folder is refused (and named), not done."""
    escape = tmp_path / "escaped.txt"
    task = tmp_path / "escaping.py"
    task.write_text(
        TORCH_MODEL + "        return x\n\n\ndef get_inputs():\n"
        f"    open({str(escape)!r}, 'w').write('x')\n"
        "    return [torch.randn(4)]\n\n\ndef get_init_inputs():\n    return []\n"
    )
    one_line_error(aikg("run", str(task)), "get_inputs() raised PermissionError")
    assert not escape.exists()
