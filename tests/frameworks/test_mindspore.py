"""`framework="mindspore"`: an `nn.Cell` reference on MindSpore's CPU build, torch candidates.

Runs where MindSpore is installed (CI installs the `aikg[mindspore]` extra); skipped,
with the reason, elsewhere.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.e2e.kernels import DESIGN, SWISH_KERNEL, WRONG_KERNEL, fenced
from tests.frameworks.conftest import TASK_FILES, aikg, event_types, llm_flags, needs_mindspore
from tests.frameworks.kernels import MINDSPORE_SCALE, SCALE_KERNEL
from tests.support.openai_server import ScriptedOpenAIServer, Step
from verifier import VerifyJob, verify_in_process

pytestmark = needs_mindspore
os.environ.setdefault("TRITON_INTERPRET", "1")
SWISH = TASK_FILES["mindspore"]


def ms_job(reference: str, candidate: str) -> VerifyJob:
    return VerifyJob(reference, candidate, framework="mindspore", small_shapes=True, trials=2)


def payloads(db: Path, task_id: str, event_type: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT payload FROM events WHERE stream = ? AND type = ? ORDER BY seq",
            (task_id, event_type),
        ).fetchall()
    finally:
        conn.close()
    return [json.loads(r[0]) for r in rows]


def scripted_model(body: dict[str, Any]) -> Step:
    """A design; then a wrong kernel; told of the mismatch, the right one."""
    text = json.dumps(body["messages"])
    if "design" in body["messages"][0]["content"].lower()[:200]:
        return Step.reply(DESIGN)
    return Step.reply(fenced(SWISH_KERNEL if "mismatch" in text else WRONG_KERNEL))


def test_example_verifies_with_a_kernel_from_a_scripted_llm(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    with ScriptedOpenAIServer(responder=scripted_model) as server:
        args = ["run", str(SWISH), "--framework", "mindspore", "--task-id", "ms-swish", "-q"]
        proc = aikg([*args, *llm_flags(server.base_url)], tmp_path, db)
        asked = len(server.requests)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.startswith("verified: mindspore_swish"), proc.stdout
    results = [p["result"] for p in payloads(db, "ms-swish", "verify.finished")]
    assert [r["stage"] for r in results] == ["mismatch", None]
    assert results[-1]["passed"] is True
    assert asked >= 3  # design, the wrong kernel, the right one
    assert payloads(db, "ms-swish", "task.created")[0]["framework"] == "mindspore"


def test_builtin_agent_says_it_does_not_lower_mindspore(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    args = ["run", str(SWISH), "--framework", "mindspore", "--task-id", "ms-builtin", "-q"]
    proc = aikg(args, tmp_path, db)
    assert proc.returncode == 1, proc.stderr
    assert "does not lower MindSpore" in proc.stdout
    finished = payloads(db, "ms-builtin", "task.finished")[0]
    assert finished["reason"] == "unsupported" and finished["success"] is False
    assert "the builtin agent does not lower MindSpore references" in finished["message"]
    assert "verify.finished" not in event_types(db, "ms-builtin")


def test_reference_cell_verifies_in_process() -> None:
    source = SWISH.read_text()
    assert verify_in_process(ms_job(source, SWISH_KERNEL)).passed
    assert verify_in_process(ms_job(source, WRONG_KERNEL)).stage == "mismatch"


def test_numpy_inputs_reach_the_cell_as_mindspore_tensors() -> None:
    source = (
        SWISH.read_text()
        .replace("ms.Tensor(np.random", "np.asarray(np.random")
        .replace("return x *", "assert isinstance(x, ms.Tensor), type(x)\n        return x *")
    )
    assert "ms.Tensor(np" not in source and "assert isinstance" in source
    result = verify_in_process(ms_job(source, SWISH_KERNEL))
    assert result.passed, result.message


def test_cell_parameters_are_shared_with_the_candidate() -> None:
    result = verify_in_process(ms_job(MINDSPORE_SCALE, SCALE_KERNEL))
    assert result.passed, result.message
    renamed = SCALE_KERNEL.replace("self.weight", "self.w")
    assert verify_in_process(ms_job(MINDSPORE_SCALE, renamed)).stage == "mismatch"


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int32", "bool"])
def test_tensors_cross_both_ways_with_their_dtype(dtype: str) -> None:
    import mindspore as ms

    from verifier.frameworks import to_reference, to_torch

    original = torch.arange(6).reshape(2, 3).to(getattr(torch, dtype))
    as_ms = to_reference(original, "mindspore")
    assert isinstance(as_ms, ms.Tensor) and as_ms.dtype == getattr(ms, dtype)
    back = to_torch(as_ms)
    assert back.dtype == original.dtype and torch.equal(back, original)
