"""Cumulative sums and products, batch norm (training and eval), group and instance norm."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.types import Unsupported
from tests.agents.builtin.builtin_harness import (
    LOOPED,
    check,
    check_code,
    generate,
    render_with,
    task,
)

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

NCHW = "torch.randn(2, 4, 3, 5)"

CASES = {
    "cumsum": dict(expr="torch.cumsum(x, dim=1)"),
    "cumsum_across_blocks": dict(
        expr="torch.cumsum(x * 2, dim=1) + 1", inputs="torch.randn(3, 2100)"
    ),
    "cumsum_first_dim": dict(expr="torch.cumsum(x, dim=0)", inputs="torch.randn(5, 6, 7)"),
    "cumprod": dict(expr="torch.cumprod(x, dim=1)", inputs="torch.rand(4, 20) + 0.5"),
    "batch_norm_batch_statistics": dict(
        expr="F.batch_norm(x, None, None, training=True)", inputs=NCHW
    ),
    "batch_norm_module": dict(expr="self.bn(x)", body="self.bn = nn.BatchNorm2d(4)", inputs=NCHW),
    "batch_norm_1d_relu": dict(
        expr="torch.relu(self.bn(x))",
        body="self.bn = nn.BatchNorm1d(8)",
        inputs="torch.randn(6, 8)",
    ),
    "group_norm": dict(expr="self.gn(x)", body="self.gn = nn.GroupNorm(2, 4)", inputs=NCHW),
    "group_norm_no_affine_3d": dict(
        expr="self.gn(x)",
        body="self.gn = nn.GroupNorm(3, 6, affine=False)",
        inputs="torch.randn(2, 6, 7)",
    ),
    "group_norm_relu": dict(
        expr="torch.relu(self.gn(x)) * 2", body="self.gn = nn.GroupNorm(2, 4)", inputs=NCHW
    ),
    "instance_norm": dict(expr="self.n(x)", body="self.n = nn.InstanceNorm2d(4)", inputs=NCHW),
    "instance_norm_affine": dict(
        expr="self.n(x)", body="self.n = nn.InstanceNorm2d(4, affine=True)", inputs=NCHW
    ),
    "instance_norm_1d": dict(expr="F.instance_norm(x)", inputs="torch.randn(2, 4, 9)"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**CASES[name]), tmp_path, name)


def test_scan_feeding_a_reduction_is_unsupported() -> None:
    with pytest.raises(Unsupported, match=r"aten\.sum"):
        generate(task("torch.cumsum(x, dim=1).sum(dim=1)"))


def test_two_kernels_worth_of_reductions_is_unsupported() -> None:
    with pytest.raises(Unsupported, match="several kernels"):
        generate(task("torch.softmax(x, dim=1).sum(dim=0)"))


# modules run in eval mode, as in the verifier: batch norm is then pointwise
LOOPED_CASES = {
    k: v for k, v in CASES.items() if k not in ("batch_norm_module", "batch_norm_1d_relu")
}


@pytest.mark.parametrize("name", sorted(LOOPED_CASES))
def test_looped_kernel_matches_reference(name: str, tmp_path: Path) -> None:
    """The same references through the kernel that walks each row in several blocks."""
    source = task(**LOOPED_CASES[name])
    check_code(source, render_with(source, LOOPED), tmp_path)
