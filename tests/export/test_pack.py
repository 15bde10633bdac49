"""`aikg pack`: a folder that pip installs into a fresh virtualenv, where `import NAME`
registers the ops without aikg; an op packed with --strict raises outside its envelope."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.export.conftest import VerifiedTask

# Run in the fresh virtualenv: the op is registered on import, computes, and (--strict)
# refuses a dtype it was never verified on.
USE_PACKAGE = """
import importlib.util
import torch
import packed_ops

assert importlib.util.find_spec("aikg") is None, "the package must not need aikg"
x, bias = torch.randn(5, 32), torch.randn(32)
expected = torch.relu(x + bias) * 2.0
torch.testing.assert_close(torch.ops.t_pack.bias_relu(x, bias), expected)
torch.testing.assert_close(packed_ops.bias_relu.bias_relu(x, parameters={"bias": bias}), expected)
try:
    packed_ops.bias_relu.bias_relu(x.double())
except packed_ops.bias_relu.OutsideEnvelope as exc:
    print(exc)
"""


def test_a_packed_folder_installs_and_registers_its_ops(
    verified_task: VerifiedTask, tmp_path: Path
) -> None:
    # The build runs offline (--no-build-isolation): setuptools must come from here.
    pytest.importorskip("setuptools", reason="building the package offline needs setuptools")
    folder = tmp_path / "packed_ops"
    done = verified_task.aikg(
        "pack", verified_task.task_id, verified_task.task_id, "-o", str(folder),
        "--namespace", "t_pack", "--strict",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(folder / "pyproject.toml"),
        str(folder / "packed_ops" / "__init__.py"),
        str(folder / "packed_ops" / "bias_relu.py"),
    ]
    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    # torch, Triton and setuptools from this environment, by path: no download, and no
    # .pth of this environment runs there (so aikg's editable install is not importable).
    where = "import site; print(site.getsitepackages()[0])"
    site = Path(subprocess.check_output([python, "-c", where], text=True).strip())
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-build-isolation", "--no-index", str(folder)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    used = subprocess.run(
        [python, "-c", USE_PACKAGE], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert used.returncode == 0, used.stderr
    assert used.stdout.startswith(
        "aikg op t_pack::bias_relu: x has dtype float64, verified float32; the kernel was "
        "verified only for x float32 [3..8x32] contiguous on cpu: pass such inputs, or export "
        "without --strict to fall back to the reference there"
    )


def test_pack_refuses_a_name_that_cannot_be_imported(verified_task: VerifiedTask) -> None:
    done = verified_task.aikg("pack", verified_task.task_id, "-o", "my-ops")
    assert done.returncode == 2
    assert "'my-ops' is not an importable package name: pass --name NAME" in done.stderr
    assert not (verified_task.directory / "my-ops").exists()
