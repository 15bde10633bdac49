"""Verification jobs whose task file attacks the sandbox (``sandbox_attacks/``), for
test_sandbox.py and, on a GPU, benchmarks/gpu/sandbox_check.py.

Each attack runs from the swish task's ``get_init_inputs()``: task files are untrusted too
and the static check does not read them, so these exercise the kernel's walls alone.
"""

from __future__ import annotations

from pathlib import Path

from verifier import VerifyJob

HERE = Path(__file__).parent
ATTACKS = HERE / "sandbox_attacks"
# Attacks the verdict cannot name: libc called directly (the kernel stops it; no Python
# audit event sees it, and it raises nothing).
UNNAMED = ("ctypes_write",)
WRITES_OUTSIDE = ("write_outside", "copy_out", "spawn_process", "fork_bomb", "ctypes_write")


def attack_job(name: str, target: Path, port: int = 0, device: str = "cpu") -> VerifyJob:
    """The swish task file with attack ``name`` aimed at ``target`` (a path the sandbox
    denies) or ``port``, and a correct candidate."""
    attack = (ATTACKS / f"{name}.py").read_text()
    attack = attack.replace("__TARGET__", str(target)).replace("__PORT__", str(port))
    task = (HERE / "ref_swish.py").read_text()
    task = task.replace("def get_init_inputs():\n", "def get_init_inputs():\n    _attack()\n")
    candidate = (HERE / "good" / "swish.py").read_text()
    return VerifyJob(f"{attack}\n\n{task}", candidate, device=device, trials=1, timeout_s=120)
