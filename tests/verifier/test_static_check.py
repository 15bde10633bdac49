"""Static rules: each rejection names its line and rule; a tutorial-style wrapper passes."""

from __future__ import annotations

import textwrap

import pytest

from verifier.static_check import check_source

from .conftest import GOOD, source

HEADER = """\
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def k(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)
"""


def candidate(forward_body: str, prelude: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(forward_body), " " * 8)
    return f"{HEADER}{prelude}\n\nclass ModelNew(nn.Module):\n    def forward(self, x):\n{body}\n"


def rules(src: str) -> set[str]:
    return {f.rule for f in check_source(src)}


@pytest.mark.parametrize("path", sorted(p.name for p in GOOD.glob("*.py")))
def test_good_candidates_pass(path: str) -> None:
    assert check_source(source(GOOD / path)) == []


def test_tutorial_wrapper_passes() -> None:
    src = candidate(
        """
        x = x.contiguous().view(-1)
        out = torch.empty_like(x)
        n = x.numel()
        grid = lambda meta: (triton.cdiv(n, meta["BLOCK"]),)
        k[grid](x, out, n, BLOCK=128)
        return out.reshape(x.shape)
        """
    )
    assert check_source(src) == []


def test_launch_through_helper_counts() -> None:
    helper = "\n\ndef launch(x, out):\n    k[(1,)](x, out, x.numel(), BLOCK=128)\n"
    src = candidate("out = torch.empty_like(x)\nlaunch(x, out)\nreturn out", helper)
    assert check_source(src) == []


@pytest.mark.parametrize(
    ("body", "prelude", "rule"),
    [
        ("return torch.relu(x)", "", "torch-compute"),
        ("return x.sum()", "", "torch-compute"),
        ("return x @ x", "", "torch-compute"),
        ("import torch.nn.functional as F\nreturn F.gelu(x)", "", "torch-compute"),
        ("out = torch.empty_like(x)\nreturn out", "", "no-kernel"),
        ("s = torch.cuda.Stream()\nreturn x", "", "streams"),
        ("return eval('x')", "", "banned-call"),
        ("import subprocess\nreturn x", "", "banned-import"),
        ("import threading\nreturn x", "", "banned-import"),
        ("import socket\nreturn x", "", "banned-import"),
        (
            "try:\n    k[(1,)](x, x, 1, BLOCK=8)\nexcept Exception:\n    pass\nreturn x",
            "",
            "swallowed-exception",
        ),
        ("return x", "\nimport time\ntime.perf_counter = lambda: 0.0", "monkey-patch"),
        ("return x", "\ntorch.cuda.synchronize = print", "monkey-patch"),
        ("return x", "\n_OUT = {}", "module-state"),
        ("return getattr(torch, 'sigmoid')(x)", "", "dynamic-attribute"),
        ("name = 'sig' + 'moid'\nreturn getattr(x, name)()", "", "dynamic-attribute"),
        ("return torch.__dict__['sigmoid'](x)", "", "dynamic-attribute"),
        ("return vars(torch)['sigmoid'](x)", "", "banned-call"),
        ("import sys\nreturn sys.modules['torch'].sigmoid(x)", "", "dynamic-attribute"),
        ("import operator\nreturn operator.attrgetter('sigmoid')(torch)(x)", "", "banned-call"),
    ],
)
def test_rule_violations_are_named(body: str, prelude: str, rule: str) -> None:
    findings = check_source(candidate(body, prelude))
    assert rule in {f.rule for f in findings}
    assert all(f.line > 0 for f in findings)
    assert all(str(f).startswith(f"line {f.line}: [") for f in findings)


def test_getattr_on_self_with_a_literal_name_passes() -> None:
    src = candidate(
        "out = torch.empty_like(x)\nk[(1,)](x, out, getattr(self, 'n', 1), BLOCK=8)\nreturn out"
    )
    assert check_source(src) == []


def test_missing_model_new_and_syntax_error() -> None:
    assert rules(HEADER) == {"model-new"}
    assert rules("def broken(:\n") == {"syntax"}


def test_line_number_points_at_the_offending_call() -> None:
    src = candidate(
        "out = torch.empty_like(x)\nk[(1,)](x, out, 1, BLOCK=8)\nreturn torch.tanh(out)"
    )
    [finding] = check_source(src)
    assert src.splitlines()[finding.line - 1].strip() == "return torch.tanh(out)"
