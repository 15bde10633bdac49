"""What an op export knows of a task: learnt by `aikg.export_op.probe` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from aikg.commands import UsageError

PROBE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class OpFacts:
    names: list[str]  # Model.forward's arguments
    parameters: list[dict[str, Any]]  # the reference's state_dict: name, dtype, shape
    shape_sets: list[dict[str, Any]]  # per verified shape set: label, inputs, outputs
    output_tuple: bool  # forward returns a tuple (or list) of tensors
    init_inputs: list[Any]  # get_init_inputs() (or its small twin), as literals

    @property
    def outputs(self) -> int:
        return len(self.shape_sets[0]["outputs"])


def probe_task(
    task_id: str, reference: str, candidate: str, small: bool, backend: str = "cpu"
) -> OpFacts:
    """Run the probe on the task's reference and kernel; a one-line UsageError when the
    task cannot become an op."""
    from verifier.process import scrubbed_env

    job = json.dumps({"reference": reference, "candidate": candidate, "small": small})
    with tempfile.TemporaryDirectory(prefix="aikg-export-") as workdir:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "aikg.export_op.probe"],
                input=job,
                capture_output=True,
                text=True,
                cwd=workdir,
                env=scrubbed_env(backend, ()),
                timeout=PROBE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise UsageError(
                f"task {task_id!r}: reading its reference and kernel took over "
                f"{PROBE_TIMEOUT_S:.0f} s: check that the task file imports quickly"
            ) from None
    lines = done.stdout.strip().splitlines()
    facts = json.loads(lines[-1]) if lines else {"problem": _last_line(done.stderr)}
    if "problem" in facts:
        raise UsageError(f"task {task_id!r} cannot be exported as an op: {facts['problem']}")
    return OpFacts(**facts)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return f"the probe died: {lines[-1]}" if lines else "the probe died without a word"
