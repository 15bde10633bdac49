"""scripts/install.sh picks the PyTorch build for the machine (run with --dry-run: the pip
commands it would run, printed)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """An interpreter that cannot import torch, as on a machine where nothing is installed."""
    python = tmp_path / "bare-python"
    python.write_text('#!/bin/sh\ncase "$2" in "import torch") exit 1;; esac\necho "$@"\n')
    python.chmod(0o755)
    return python


def install(python: Path, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": str(python), "PATH": path}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "install.sh"), "--dry-run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )


def test_without_a_gpu_the_cpu_build_is_installed(bare_python: Path) -> None:
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not _has_smi(p))
    out = install(bare_python, path, ".[test]").stdout.splitlines()
    assert out[0].startswith("install.sh: no NVIDIA GPU: the CPU build of PyTorch")
    assert out[1] == f"{bare_python} -m pip install torch {CPU_INDEX}"
    assert out[2] == f"{bare_python} -m pip install -e .[test]"


def test_with_a_gpu_the_default_cuda_build_is_installed(bare_python: Path, tmp_path: Path) -> None:
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text('#!/bin/sh\necho "GPU 0: NVIDIA H200 (UUID: GPU-0)"\n')
    smi.chmod(0o755)
    out = install(bare_python, f"{smi.parent}{os.pathsep}{os.environ['PATH']}").stdout
    assert "an NVIDIA GPU is present" in out
    assert f"{bare_python} -m pip install torch\n" in out and CPU_INDEX not in out


def _has_smi(folder: str) -> bool:
    return (Path(folder) / "nvidia-smi").exists()
