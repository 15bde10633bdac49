"""The bench report's share of reference graphs lowered, with the ops that stopped the rest,
from the builtin agent's own refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.builtin.provider import plan_design
from agents.types import Unsupported
from aikg.bench import BenchRow, RunMeta, write_report
from aikg.bench.lowering_share import refused_ops
from tests.agents.builtin.builtin_harness import request, task

TASKS = Path(__file__).resolve().parents[1] / "agents" / "builtin" / "tasks"


def _refusal(source: str) -> str:
    with pytest.raises(Unsupported) as info:
        plan_design(request(source))
    return str(info.value)


def test_report_counts_lowered_verified_and_unsupported_by_op(tmp_path: Path) -> None:
    sort = _refusal(task("torch.sort(x, dim=1)[0] + 1"))
    sort_again = _refusal(task("torch.sort(x, dim=0)[0] * 2"))
    constant = _refusal((TASKS / "device_constant.py").read_text())
    rows = [
        BenchRow("a.py", "a", "pointwise", "verified"),
        BenchRow("b.py", "b", "reduction", "failed", message="mismatch"),
        BenchRow("c.py", "c", "sort", "unsupported", message=sort),
        BenchRow("d.py", "d", "sort", "unsupported", message=sort_again),
        BenchRow("e.py", "e", "pointwise", "unsupported", message=constant),
        BenchRow("f.py", "f", "other", "unsupported", message="the reference does not run"),
    ]
    files = write_report(rows, RunMeta(backend="cpu"), tmp_path)
    markdown = files.markdown.read_text()
    assert (
        "- Lowered: 2/6 (33.3%); verified 1; unsupported 4: `aten.sort` (2), "
        "`<constant>` (1), `the reference does not run` (1)"
    ) in markdown
    lowering = json.loads(files.json.read_text())["summary"]["lowering"]
    assert lowering == {
        "tasks": 6,
        "lowered": 2,
        "verified": 1,
        "unsupported": 4,
        "unsupported_ops": {"aten.sort": 2, "<constant>": 1, "the reference does not run": 1},
    }


def test_refused_ops_names_every_op_once() -> None:
    message = "the builtin agent cannot lower aten.tril, aten.view.default; aten.tril again"
    assert refused_ops(message) == ["aten.tril", "aten.view.default"]
    assert refused_ops("forward returns a non-tensor; configure an LLM") == [
        "forward returns a non-tensor"
    ]
    assert refused_ops("torch cannot trace this forward (KeyError: 3)") == [
        "torch cannot trace this forward"
    ]
