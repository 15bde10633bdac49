"""Extraction of code, designs and Conductor decisions from model replies."""

from __future__ import annotations

import json

import pytest

from agents.llm.parsing import (
    extract_code,
    extract_design,
    fenced_blocks,
    parse_decision,
    strip_thinking,
)
from agents.types import NoCode

MODULE = """import torch
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(y_ptr + offs, tl.maximum(x, 0.0), mask=offs < n)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        relu_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
        return y
"""


def fenced(body: str, label: str = "python", fence: str = "```") -> str:
    return f"{fence}{label}\n{body}{fence}\n"


@pytest.mark.parametrize("label", ["python", "py", "Python3", "triton", ""])
def test_fenced_block_with_any_python_label(label: str) -> None:
    reply = f"Here is the kernel.\n\n{fenced(MODULE, label)}\nIt masks the tail."
    assert extract_code(reply) == MODULE


def test_tilde_fence_and_info_string() -> None:
    reply = fenced(MODULE, "python title=kernel.py", fence="~~~")
    assert extract_code(reply) == MODULE


def test_chooses_the_block_defining_modelnew() -> None:
    usage = "```python\nmodel = ModelNew()\nprint(model(x))\n```\n"
    reply = f"First the module:\n{fenced(MODULE)}\nUse it like this:\n{usage}"
    assert extract_code(reply) == MODULE


def test_last_of_several_modelnew_blocks_wins() -> None:
    first = MODULE.replace("BLOCK=1024", "BLOCK=256")
    reply = f"Draft:\n{fenced(first)}\nBetter:\n{fenced(MODULE)}"
    assert extract_code(reply) == MODULE


def test_kernel_in_a_separate_block_is_joined() -> None:
    kernel, module = MODULE.split("\n\nclass ModelNew")
    reply = f"Kernel:\n{fenced(kernel + chr(10))}\nModule:\n{fenced('class ModelNew' + module)}"
    code = extract_code(reply)
    assert code.index("def relu_kernel") < code.index("class ModelNew")
    compile(code, "<candidate>", "exec")


def test_json_reply_with_code_field() -> None:
    assert extract_code(json.dumps({"code": MODULE, "notes": "one pass"})) == MODULE


def test_json_reply_inside_a_json_fence() -> None:
    reply = "```json\n" + json.dumps({"code": fenced(MODULE)}) + "\n```"
    assert extract_code(reply) == MODULE


def test_bare_code_with_prose_around() -> None:
    reply = f"Sure! Below is the module.\n\n{MODULE}\nThis should be fast."
    code = extract_code(reply)
    assert code.startswith("import torch")
    assert "This should be fast" not in code
    compile(code, "<candidate>", "exec")


def test_thinking_is_ignored() -> None:
    reply = "<think>maybe ```cuda __global__``` no</think>\n" + fenced(MODULE)
    assert extract_code(reply) == MODULE


def test_empty_reply_raises() -> None:
    with pytest.raises(NoCode, match="empty"):
        extract_code("   \n")


def test_prose_only_raises_with_instruction() -> None:
    with pytest.raises(NoCode, match="no code block") as info:
        extract_code("I would use a tiled reduction with a block size of 1024.")
    assert "```python" in str(info.value)


@pytest.mark.parametrize("label", ["cuda", "cpp", "c++", "c"])
def test_foreign_language_raises(label: str) -> None:
    body = "#include <cuda.h>\n__global__ void relu(float* x) { x[threadIdx.x] = 0; }\n"
    with pytest.raises(NoCode, match="not Python") as info:
        extract_code(f"Here you go:\n{fenced(body, label)}")
    assert label in str(info.value)


def test_unlabelled_cuda_raises() -> None:
    body = "__global__ void relu(float* x) {\n  x[blockIdx.x] = 0;\n}\n"
    with pytest.raises(NoCode, match="not Python"):
        extract_code(fenced(body, ""))


def test_python_without_modelnew_raises() -> None:
    with pytest.raises(NoCode, match="no class ModelNew"):
        extract_code(fenced("import torch\nclass Model(torch.nn.Module):\n    pass\n"))


def test_syntax_error_is_named() -> None:
    with pytest.raises(NoCode, match=r"not valid Python.*line 2"):
        extract_code(fenced("class ModelNew:\n    def forward(self x):\n        pass\n"))


def test_reply_cut_inside_block() -> None:
    reply = "```python\nimport torch\nclass ModelNew(torch.nn.Module):\n    def forward(self, x"
    with pytest.raises(NoCode, match="cut off"):
        extract_code(reply)


def test_fenced_blocks_reports_unclosed() -> None:
    blocks = fenced_blocks("```py\na = 1\n```\ntext\n```c\nint x;")
    assert [(b.label, b.closed) for b in blocks] == [("py", True), ("c", False)]


def test_strip_thinking_handles_unclosed_tag() -> None:
    assert strip_thinking("<think>still thinking") == ""


def test_extract_design_plain_and_json() -> None:
    assert extract_design("<think>hmm</think>\nOne pass, 1024 per block.\n") == (
        "One pass, 1024 per block."
    )
    assert extract_design(json.dumps({"design": " two passes "})) == "two passes"
    with pytest.raises(NoCode, match="design reply was empty"):
        extract_design("<think>only thoughts</think>")


def test_parse_decision_json_and_prose() -> None:
    reply = 'Analysis done.\n```json\n{"action": "fix_design", "reason": "wrong tiling"}\n```'
    assert parse_decision(reply) == ("fix_design", "wrong tiling")
    assert parse_decision("I'd say fix_code: the mask is off by one.")[0] == "fix_code"
    with pytest.raises(ValueError, match="not one of"):
        parse_decision('{"action": "give_up", "reason": "x"}')
    with pytest.raises(ValueError, match="neither"):
        parse_decision("either fix_code or fix_design would do")
