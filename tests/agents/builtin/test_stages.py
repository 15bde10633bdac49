"""Graphs of chained reductions over different dims, lowered into kernels launched in stages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agents.builtin import BuiltinProvider
from agents.builtin.reference import trace_reference
from agents.builtin.stages import lower_graph
from agents.types import Unsupported
from tests.agents.builtin.builtin_harness import (
    DEVICE,
    LOOPED,
    SPLIT,
    check,
    check_code,
    generate,
    request,
    task,
)

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SUITE = Path(__file__).resolve().parents[3] / "benchmarks" / "suite"
# class targets with row 2 ignored (ignore_index=-100)
TARGETS = "torch.randint(0, 20, (6,)).index_fill(0, torch.tensor([2]), -100)"
LOGITS_TARGETS = f"torch.randn(6, 20) * 3, {TARGETS}"

CASES = {
    "cross_entropy": dict(expr="F.cross_entropy(x, t)", inputs=LOGITS_TARGETS, args="x, t"),
    "cross_entropy_sum": dict(
        expr="F.cross_entropy(x, t, reduction='sum')", inputs=LOGITS_TARGETS, args="x, t"
    ),
    "cross_entropy_fp16": dict(
        expr="F.cross_entropy(x, t)",
        inputs=f"torch.randn(6, 20, dtype=torch.float16) * 3, {TARGETS}",
        args="x, t",
    ),
    "nll_of_log_softmax": dict(
        expr="F.nll_loss(torch.log_softmax(x, dim=1), t)", inputs=LOGITS_TARGETS, args="x, t"
    ),
    "kl_div_log_target_batchmean": dict(
        expr="F.kl_div(F.log_softmax(x, -1), F.log_softmax(y, -1), reduction='batchmean', "
        "log_target=True)",
        inputs="torch.randn(5, 24), torch.randn(5, 24)",
        args="x, y",
    ),
    "max_of_row_sums": dict(expr="x.sum(-1).amax()"),
    "mean_of_row_norms": dict(expr="torch.norm(x, dim=1).mean()"),
    "column_sums_of_softmax": dict(expr="torch.softmax(x, dim=1).sum(dim=0)"),
    "row_sums_and_their_max": dict(expr="(x.sum(1), x.sum(1).max())"),
    "three_levels": dict(expr="x.softmax(1).sum(0).amax()"),
    "sum_of_row_argmax": dict(expr="x.argmax(1).sum()"),
    "mean_after_layer_norm_keepdim": dict(
        expr="F.layer_norm(x, (33,)).abs().mean(dim=(0, 1), keepdim=True)"
    ),
    "two_widths": dict(
        expr="x.sum(1) + y.amax(1)",
        inputs="torch.randn(4, 9), torch.randn(4, 13)",
        args="x, y",
    ),
}


def _render(source: str, config: dict[str, Any]) -> str:
    lowered = lower_graph(trace_reference(source, "torch"))
    return lowered.render("op", config, interpreter=DEVICE == "cpu")


@pytest.mark.parametrize("name", sorted(CASES))
def test_staged_graph_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**CASES[name]), tmp_path, name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stages_through_the_looped_kernels(name: str, tmp_path: Path) -> None:
    source = task(**CASES[name])
    check_code(source, _render(source, LOOPED), tmp_path)


@pytest.mark.parametrize(
    "name", ["cross_entropy", "kl_div_log_target_batchmean", "max_of_row_sums", "two_widths"]
)
def test_stages_through_the_split_kernels(name: str, tmp_path: Path) -> None:
    """Row sums cut into chunks, and the second stage's one long row too."""
    source = task(**CASES[name])
    check_code(source, _render(source, SPLIT), tmp_path)


def test_cross_entropy_without_reduction_is_one_kernel(tmp_path: Path) -> None:
    source = task("F.cross_entropy(x, t, reduction='none')", inputs=LOGITS_TARGETS, args="x, t")
    code = check(source, tmp_path, "ce")
    assert "in 2 stages" not in code and "def ce_kernel(" in code


@pytest.mark.parametrize("name", ["loss_cross_entropy", "loss_kl_div"])
def test_suite_loss_runs_in_two_stages(name: str, tmp_path: Path) -> None:
    code = check((SUITE / f"{name}.py").read_text(), tmp_path, name)
    assert f"Triton kernels for `{name}` in 2 stages" in code
    assert f"def {name}_stage1_kernel(" in code and f"def {name}_stage2_kernel(" in code
    assert f"{name}_stage1_kernel[grid](" in code and f"{name}_stage2_kernel[grid](" in code
    assert code.index("# stage 1:") < code.index("# stage 2:") < code.index("return out")


def test_cross_entropy_reads_each_row_once_and_its_target_column_once() -> None:
    code = generate((SUITE / "loss_cross_entropy.py").read_text(), "ce").code
    stage1 = code[code.index("def ce_stage1_kernel(") : code.index("def ce_stage1_looped_kernel(")]
    loads = [line.strip() for line in stage1.splitlines() if "tl.load(logits_ptr" in line]
    assert len(loads) == 2, loads  # the row, and logits[row, target[row]]
    assert "mask=rmask" in loads[0] and "rmask" not in loads[1]  # one element, not the row
    stage2 = code[code.index("def ce_stage2_kernel(") :]
    assert "logits_ptr" not in stage2.split("):")[0]  # only per-row values and targets


def test_kl_div_sums_each_row_then_the_rows() -> None:
    code = generate((SUITE / "loss_kl_div.py").read_text(), "kl").code
    assert "Writes row_sum_buf for a later stage." in code
    assert "row_sum_buf = torch.empty((logits.shape[0],)" in code
    assert "kl_stage2_kernel[grid](row_sum_buf, out," in code


def test_design_names_each_stage() -> None:
    source = (SUITE / "loss_kl_div.py").read_text()
    design = asyncio.run(BuiltinProvider().design(request(source, "kl")))
    assert design.text.startswith("2 Triton kernels launched in order")
    assert "Stage 1: One fused Triton kernel, `kl_stage1_kernel`" in design.text
    assert "Stage 2: One fused Triton kernel, `kl_stage2_kernel`" in design.text
    assert design.notes["fused"][-2:] == ["sum", "div"]


def test_class_weights_are_still_unsupported() -> None:
    source = task(
        "F.cross_entropy(x, t, weight=w)",
        inputs="torch.randn(6, 20), torch.randint(0, 20, (6,)), torch.rand(20)",
        args="x, t, w",
    )
    with pytest.raises(Unsupported, match="cannot lower"):
        generate(source)
