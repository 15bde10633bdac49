"""Prompt rendering from the built-in templates and a user override directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.llm.prompts import PromptError, PromptLibrary
from agents.types import AgentRequest, Attempt, Target

REFERENCE = """import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)
"""


def request(**changes: object) -> AgentRequest:
    fields: dict[str, object] = {
        "op_name": "relu_op",
        "reference_source": REFERENCE,
        "framework": "torch",
        "target": Target("cuda", "h100"),
        "task_type": "profile",
        "step": 3,
        "design": "DESIGN-SKETCH one pass",
        "previous_code": "PREVIOUS-CANDIDATE = 1",
        "feedback": {
            "passed": False,
            "stage": "mismatch",
            "message": "max abs err 0.5",
            "max_abs_err": 0.5,
            "errors": ["ERROR-ONE", "ERROR-TWO"],
            "timings": {"eager_ms": 0.031, "candidate_ms": 0.052},
        },
        "advice": "ADVICE mask the tail",
        "history": (
            Attempt(1, False, "compile", "HISTORY-ONE bad constexpr"),
            Attempt(2, True, None, "ok", candidate_time_ms=0.052, launch_config={"BLOCK": 512}),
        ),
    }
    fields.update(changes)
    return AgentRequest(**fields)  # type: ignore[arg-type]


def test_coder_prompt_carries_every_field() -> None:
    system, user = PromptLibrary().coder(request())
    assert system["role"] == "system" and user["role"] == "user"
    assert "```python" in system["content"] and "ModelNew" in system["content"]
    assert "@triton.jit" in system["content"]
    text = user["content"]
    for needle in (
        "relu_op",
        "return torch.relu(x)",
        "`cuda`",
        "H100",
        "tl.program_id",
        "DESIGN-SKETCH",
        "PREVIOUS-CANDIDATE",
        "`mismatch`",
        "max abs err 0.5",
        "ERROR-ONE",
        "ERROR-TWO",
        "candidate_ms: 0.052",
        "ADVICE mask the tail",
        "HISTORY-ONE",
        "step 2: passed, 0.052 ms",
    ):
        assert needle in text, needle


def test_first_step_prompt_has_no_empty_sections() -> None:
    first = request(design=None, previous_code=None, feedback=None, advice=None, history=())
    text = PromptLibrary().coder(first)[1]["content"]
    for heading in ("Previous candidate", "Why the previous", "Earlier attempts", "advice"):
        assert heading not in text
    assert "Write the candidate" in text


@pytest.mark.parametrize(
    ("arch", "needle"),
    [
        ("h100", "H100"),
        ("a100", "A100"),
        ("h20", "H20"),
        ("l20", "L20"),
        ("cpu", "interpreter"),
        ("ascend910b4", "Ascend 910B"),
        ("mi300", "no sheet"),
    ],
)
def test_hardware_sheet_per_arch(arch: str, needle: str) -> None:
    text = PromptLibrary().designer(request(target=Target("cuda", arch)))[1]["content"]
    assert needle in text


def test_cpu_sheet_warns_about_the_interpreter() -> None:
    text = PromptLibrary().coder(request(target=Target("cpu", "cpu")))[1]["content"]
    assert "TRITON_INTERPRET=1" in text and "do_bench" in text


def test_swft_variant() -> None:
    target = Target("ascend", "ascend910b4", impl_type="swft")
    system, user = PromptLibrary().coder(request(target=target))
    assert "SWFT" in system["content"] and "@triton.jit" not in system["content"]
    assert "SWFT notes" in user["content"]


def test_designer_and_conductor_prompts() -> None:
    library = PromptLibrary()
    designer = library.designer(request())
    assert "no code" in designer[0]["content"] and "ADVICE" in designer[1]["content"]
    conductor = library.conductor(request())
    assert '"fix_design"' in conductor[0]["content"] and "ERROR-ONE" in conductor[1]["content"]


def test_user_directory_overrides_one_template(tmp_path: Path) -> None:
    (tmp_path / "system_coder.j2").write_text("CUSTOM CONTRACT for {{ op_name }}\n")
    (tmp_path / "hardware_h100.j2").write_text("OUR H100 NOTES\n")
    system, user = PromptLibrary(tmp_path).coder(request())
    assert system["content"] == "CUSTOM CONTRACT for relu_op\n"
    assert "OUR H100 NOTES" in user["content"] and "tl.program_id" in user["content"]


def test_user_directory_adds_a_hardware_sheet(tmp_path: Path) -> None:
    (tmp_path / "hardware_mi300.j2").write_text("MI300X: 304 CUs\n")
    text = PromptLibrary(tmp_path).coder(request(target=Target("rocm", "mi300x")))[1]["content"]
    assert "MI300X: 304 CUs" in text


def test_missing_directory_and_broken_template(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="does not exist"):
        PromptLibrary(tmp_path / "nope")
    (tmp_path / "coder.j2").write_text("{{ no_such_field }}\n")
    with pytest.raises(PromptError, match=r"coder\.j2.*no_such_field"):
        PromptLibrary(tmp_path).coder(request())
