"""Cumulative sums and products, batch norm (training and eval), group and instance norm."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.types import Unsupported
from tests.agents.builtin.builtin_harness import (
    LOOPED,
    SPLIT,
    check,
    check_code,
    full_size_launches,
    generate,
    render_with,
    task,
)

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SUITE = Path(__file__).resolve().parents[3] / "benchmarks" / "suite"

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


# modules run in eval mode, as in the verifier: batch norm is then pointwise
LOOPED_CASES = {
    k: v for k, v in CASES.items() if k not in ("batch_norm_module", "batch_norm_1d_relu")
}


@pytest.mark.parametrize("name", sorted(LOOPED_CASES))
def test_looped_kernel_matches_reference(name: str, tmp_path: Path) -> None:
    """The same references through the kernel that walks each row in several blocks."""
    source = task(**LOOPED_CASES[name])
    check_code(source, render_with(source, LOOPED), tmp_path)


# statistics (mean and variance, Welford) over chunks of R, merged, then stored chunk by chunk
SPLIT_CASES = [
    "batch_norm_batch_statistics",
    "group_norm",
    "group_norm_no_affine_3d",
    "group_norm_relu",
    "instance_norm",
    "instance_norm_affine",
    "instance_norm_1d",
]


@pytest.mark.parametrize("name", SPLIT_CASES)
def test_split_kernels_match_reference(name: str, tmp_path: Path) -> None:
    source = task(**CASES[name])
    code = render_with(source, SPLIT)
    assert "op_combine_kernel[(programs, split)]" in code
    check_code(source, code, tmp_path)


def test_scans_are_not_split() -> None:
    assert "op_partial_kernel" not in render_with(task(**CASES["cumsum"]), SPLIT)


SUITE_NORMS = ["norm_softmax_fp16_dim1", "norm_group_norm", "norm_instance_norm"]


CONFIGS = {"looped": LOOPED, "split": SPLIT}


@pytest.mark.parametrize("config", ["default", *CONFIGS])
@pytest.mark.parametrize("name", SUITE_NORMS)
def test_suite_norms_match_reference(name: str, config: str, tmp_path: Path) -> None:
    source = (SUITE / f"{name}.py").read_text()
    if config == "default":
        check(source, tmp_path)
    else:
        check_code(source, render_with(source, CONFIGS[config]), tmp_path)


@pytest.mark.parametrize(
    ("name", "launches"),
    [
        # 32x1024 strided rows of 1024: 16 neighbouring rows (16K elements) per program
        (
            "norm_softmax_fp16_dim1",
            [("op_kernel", (2048,), {"BLOCK_M": 16, "BLOCK_R": 1024, "num_warps": 16})],
        ),
        # 2048 rows of 16384: each row read once into registers, written once
        (
            "norm_instance_norm",
            [("op_kernel", (2048,), {"BLOCK_M": 1, "BLOCK_R": 16384, "num_warps": 16})],
        ),
        # 256 rows of 65536: 4 programs a row gather mean and variance, 4 a row normalise
        (
            "norm_group_norm",
            [
                ("op_partial_kernel", (256, 4), {"BLOCK_M": 1, "BLOCK_R": 1024, "num_warps": 4}),
                (
                    "op_combine_kernel",
                    (256, 4),
                    {"BLOCK_M": 1, "BLOCK_S": 4, "BLOCK_R": 1024, "num_warps": 4},
                ),
            ],
        ),
    ],
)
def test_suite_norms_launch_at_full_size(
    name: str, launches: list[tuple[str, tuple[int, ...], dict[str, int]]], tmp_path: Path
) -> None:
    assert full_size_launches((SUITE / f"{name}.py").read_text(), tmp_path) == launches


def test_reverse_cumsum_of_the_suite_narrows_its_tiles(tmp_path: Path) -> None:
    """A scan along dim 1 of 64x4096x128 cannot split R: 8192 columns go 16 to a program
    (512 programs) walking R 256 rows at a time, rather than 64 programs of 128."""
    launches = full_size_launches((SUITE / "scan_cumsum_reverse.py").read_text(), tmp_path)
    assert launches == [
        ("op_looped_kernel", (512,), {"BLOCK_M": 16, "BLOCK_R": 256, "num_warps": 4})
    ]
