"""Model fragments that need several kernels: the partitioner cuts the graph after each
matmul whose output a reduction, a group norm or another matmul reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.builtin.matmul_rows import MatmulRows
from agents.builtin.reference import trace_reference
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import check, task

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

LINEAR = "self.lin = nn.Linear(24, 20)"
FRAGMENTS = {
    "gemm_logsumexp": dict(
        expr="torch.logsumexp(self.lin(x), dim=1, keepdim=True)",
        body=LINEAR,
        inputs="torch.randn(6, 24)",
    ),
    "gemm_group_norm_hardtanh": dict(
        expr="F.hardtanh(self.gn(self.lin(x)), -0.5, 0.5)",
        body=LINEAR + "; self.gn = nn.GroupNorm(4, 20)",
        inputs="torch.randn(6, 24)",
    ),
    "matmul_row_norm": dict(
        expr="F.normalize(x @ y, dim=1)",
        inputs="torch.randn(6, 24), torch.randn(24, 20)",
        args="x, y",
    ),
    "gemm_sum_sigmoid": dict(
        expr="torch.sigmoid(self.lin(x).sum(dim=1, keepdim=True))",
        body=LINEAR,
        inputs="torch.randn(6, 24)",
    ),
    "gram_row_sums": dict(expr="torch.mm(x, x.t()).sum(dim=1)"),
    "gemm_view_group_sums": dict(
        expr="self.lin(x).view(6, 4, 5).sum(2)", body=LINEAR, inputs="torch.randn(6, 24)"
    ),
    "matmul_softmax_fp16": dict(
        expr="torch.softmax(x @ y, dim=1)",
        inputs="torch.randn(6, 24, dtype=torch.float16), torch.randn(24, 20, dtype=torch.float16)",
        args="x, y",
    ),
    # rows wider than one program's tile: the matmul and the softmax in two kernels
    "gemm_softmax_wide_rows": dict(
        expr="torch.softmax(self.wide(x), dim=1)",
        body="self.wide = nn.Linear(8, 520)",
        inputs="torch.randn(3, 8)",
    ),
    # a linear over (batch, seq, features): the product written 2-D, read back 3-D
    "linear_3d_softmax": dict(
        expr="torch.softmax(self.lin(x), -1)", body=LINEAR, inputs="torch.randn(2, 6, 24)"
    ),
    # parameters inside an nn.Sequential: self.net[0].weight on the host
    "sequential_mlp": dict(
        expr="self.net(x)",
        body="self.net = nn.Sequential(nn.Linear(24, 20), nn.ReLU(), nn.Linear(20, 16))",
        inputs="torch.randn(6, 24)",
    ),
    # reductions over a dim of size 1 are their input (KernelBench level 2, tasks 18 and 80)
    "gemm_then_one_element_reductions": dict(
        expr="torch.logsumexp(torch.max(self.lin(x).sum(1, keepdim=True), 1, keepdim=True)[0]"
        ".mean(1, keepdim=True), 1, keepdim=True).sum(1)",
        body=LINEAR,
        inputs="torch.randn(6, 24)",
    ),
    "gemm_max_minus_its_mean": dict(
        expr="F.gelu((y := torch.max(self.lin(x), dim=1, keepdim=True).values)"
        " - y.mean(dim=1, keepdim=True))",
        body=LINEAR,
        inputs="torch.randn(6, 24)",
    ),
    # a row statistic broadcast onto a tensor of another width: a pointwise stage after it
    "row_mean_onto_another_width": dict(
        expr="x.mean(1, keepdim=True) + y",
        inputs="torch.randn(6, 24), torch.randn(6, 10)",
        args="x, y",
    ),
    "gemm_row_statistic_residual": dict(
        expr="F.gelu(torch.logsumexp(self.lin(x).mean(1, keepdim=True), 1, keepdim=True)) + x",
        body=LINEAR,
        inputs="torch.randn(6, 24)",
    ),
    "mlp_block": dict(
        expr="self.out(F.gelu(self.lin(x) * 0.5))",
        body=LINEAR + "; self.out = nn.Linear(20, 16)",
        inputs="torch.randn(6, 24)",
    ),
}
HALF = "torch.randn(6, 24, dtype=torch.float16), torch.randn(24, 20, dtype=torch.float16)"
# the one-kernel variant's patterns with 16-bit operands (fp32 ones keep two stages)
FRAGMENTS |= {
    "matmul_logsumexp_fp16": dict(
        expr="torch.logsumexp(x @ y, dim=1, keepdim=True)", inputs=HALF, args="x, y"
    ),
    "matmul_row_norm_fp16": dict(expr="F.normalize(x @ y, dim=1)", inputs=HALF, args="x, y"),
    "matmul_one_element_reductions_fp16": dict(
        expr="torch.logsumexp(torch.max((x @ y).sum(1, keepdim=True), 1, keepdim=True)[0]"
        ".mean(1, keepdim=True), 1, keepdim=True).sum(1)",
        inputs=HALF,
        args="x, y",
    ),
    "matmul_max_minus_its_mean_fp16": dict(
        expr="F.gelu((z := torch.max(x @ y, dim=1, keepdim=True).values)"
        " - z.mean(dim=1, keepdim=True))",
        inputs=HALF,
        args="x, y",
    ),
}
# a matmul, then a reduction of its rows: also one kernel, for 16-bit rows that fit a tile
ROW_FUSED = {name for name in FRAGMENTS if name.startswith("matmul_") and name.endswith("_fp16")}
# (families of the stages in launch order)
STAGES = {
    "gemm_logsumexp": ["matmul", "reduction"],
    "gemm_group_norm_hardtanh": ["matmul", "reduction"],
    "matmul_row_norm": ["matmul", "reduction"],
    "gemm_sum_sigmoid": ["matmul", "reduction"],
    "gram_row_sums": ["matmul", "reduction"],
    "gemm_view_group_sums": ["matmul", "reduction"],
    "gemm_softmax_wide_rows": ["matmul", "reduction"],
    "matmul_softmax_fp16": ["matmul", "reduction"],
    "linear_3d_softmax": ["matmul", "reduction"],
    "gemm_then_one_element_reductions": ["matmul", "reduction"],
    "gemm_max_minus_its_mean": ["matmul", "reduction"],
    "row_mean_onto_another_width": ["reduction", "pointwise"],
    "gemm_row_statistic_residual": ["matmul", "reduction", "pointwise"],
    "matmul_logsumexp_fp16": ["matmul", "reduction"],
    "matmul_row_norm_fp16": ["matmul", "reduction"],
    "matmul_one_element_reductions_fp16": ["matmul", "reduction"],
    "matmul_max_minus_its_mean_fp16": ["matmul", "reduction"],
    "mlp_block": ["matmul", "matmul"],
    "sequential_mlp": ["matmul", "matmul"],
}


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_fragment_matches_reference(name: str, tmp_path: Path) -> None:
    source = task(**FRAGMENTS[name])
    lowered = lower_graph(trace_reference(source, "torch"))
    assert [stage.plan.family for stage in lowered.stages] == STAGES[name]
    assert isinstance(lowered, MatmulRows) == (name in ROW_FUSED)
    check(source, tmp_path, name)
