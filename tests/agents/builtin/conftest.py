"""Run Triton in its interpreter here (set before triton is imported).

Set AIKG_BUILTIN_DEVICE=cuda to run the same tests on a GPU with compiled kernels; run
this folder on its own then (``AIKG_BUILTIN_DEVICE=cuda pytest tests/agents/builtin``):
other folders' conftests switch the whole process to the interpreter.
"""

from __future__ import annotations

import os

import pytest

DEVICE = os.environ.get("AIKG_BUILTIN_DEVICE", "cpu")

if DEVICE == "cpu":
    os.environ["TRITON_INTERPRET"] = "1"


@pytest.fixture(autouse=True, scope="session")
def _compiled_kernels_on_a_gpu() -> None:
    """On a GPU the kernels must really compile: refuse a process set to interpret."""
    if DEVICE != "cpu" and os.environ.get("TRITON_INTERPRET") == "1":
        pytest.exit(
            "AIKG_BUILTIN_DEVICE=cuda but TRITON_INTERPRET=1 (set by another folder's "
            "conftest): run `AIKG_BUILTIN_DEVICE=cuda pytest tests/agents/builtin` on its own",
            returncode=2,
        )
