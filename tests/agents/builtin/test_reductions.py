"""Reductions along any dims, softmax family, norms and losses, with fused pointwise work."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.builtin.search import REDUCTION_CONFIGS
from tests.agents.builtin.builtin_harness import (
    LOOPED,
    SPLIT,
    check,
    check_code,
    full_size_launches,
    render_with,
    task,
)

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SUITE = Path(__file__).resolve().parents[3] / "benchmarks" / "suite"

X2 = "torch.randn(4, 33)"
X3 = "torch.randn(3, 6, 7)"
XY = "torch.randn(4, 9), torch.randn(4, 9)"

REDUCTIONS = {
    "sum_last": dict(expr="torch.sum(x, dim=1)"),
    "sum_keepdim_fused": dict(expr="torch.sum(x * 2, dim=1, keepdim=True) + 1"),
    "sum_first_of_3d": dict(expr="torch.sum(x, dim=0)", inputs=X3),
    "sum_middle_of_3d": dict(expr="torch.sum(torch.relu(x), dim=1)", inputs=X3),
    "sum_all": dict(expr="x.sum()"),
    "mean_last": dict(expr="torch.mean(x, dim=-1)", inputs=X3),
    "mean_two_dims": dict(expr="torch.mean(x, dim=(1, 2))", inputs=X3),
    "max_values": dict(expr="torch.max(x, dim=1)[0]"),
    "max_values_and_indices": dict(expr="torch.max(x, dim=1)"),
    "min_first_dim": dict(expr="torch.min(x, dim=0).values", inputs=X3),
    "amax": dict(expr="torch.amax(x, dim=1)"),
    "prod": dict(expr="torch.prod(x, dim=1)", inputs="torch.rand(4, 10) + 0.5"),
    "argmax": dict(expr="torch.argmax(x, dim=1)", inputs=X3),
    "argmin": dict(expr="torch.argmin(x, dim=0)", inputs=X3),
    "argmax_flat": dict(expr="torch.argmax(x)"),
    "l1_norm": dict(expr="torch.norm(x, p=1, dim=1)"),
    "l2_norm": dict(expr="torch.norm(x, dim=1)"),
    "frobenius_norm_divide": dict(expr="x / torch.norm(x, p='fro')"),
    "inf_norm": dict(expr="torch.linalg.vector_norm(x, ord=float('inf'), dim=1)"),
    "normalize": dict(expr="F.normalize(x, dim=1)"),
    "var": dict(expr="torch.var(x, dim=1)"),
    "var_first_dim": dict(expr="torch.var(x, dim=0)", inputs=X3),
    "std_keepdim": dict(expr="torch.std(x, dim=1, keepdim=True)"),
    "row_bias_after": dict(
        expr="torch.sum(x, dim=1, keepdim=True) + y",
        inputs="torch.randn(4, 9), torch.randn(4, 1)",
        args="x, y",
    ),
    "sum_fp16": dict(expr="torch.sum(x, dim=1)", inputs="torch.randn(4, 33, dtype=torch.float16)"),
    "mean_bf16": dict(expr="x.mean(dim=0)", inputs="torch.randn(5, 8, dtype=torch.bfloat16)"),
}

NORMALIZATIONS = {
    "softmax": dict(expr="torch.softmax(x, dim=1)"),
    "softmax_first_dim": dict(expr="torch.softmax(x, dim=0)", inputs=X3),
    "log_softmax": dict(expr="torch.log_softmax(x, dim=-1)"),
    "logsumexp": dict(expr="torch.logsumexp(x, dim=1)"),
    "logsumexp_keepdim": dict(expr="torch.logsumexp(x, dim=0, keepdim=True)", inputs=X3),
    "softmax_bf16": dict(
        expr="torch.softmax(x, dim=1)", inputs="torch.randn(4, 33, dtype=torch.bfloat16)"
    ),
    "layer_norm": dict(
        expr="self.ln(x)", init="n", body="self.ln = nn.LayerNorm(n)", init_values="33"
    ),
    "layer_norm_two_dims": dict(
        expr="self.ln(x)", body="self.ln = nn.LayerNorm((6, 7))", inputs=X3
    ),
    "rms_norm_written_out": dict(
        expr="x * torch.rsqrt(torch.mean(x ** 2, dim=-1, keepdim=True) + 1e-5)"
    ),
    "rms_norm_functional": dict(expr="F.rms_norm(x, (33,), eps=1e-6)"),
    "rms_norm_channels": dict(
        expr="x / torch.sqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-5)",
        inputs="torch.randn(2, 8, 3, 3)",
    ),
    "mse_loss": dict(expr="F.mse_loss(x, y)", inputs=XY, args="x, y"),
    "huber_loss": dict(expr="F.huber_loss(x, y, delta=0.5)", inputs=XY, args="x, y"),
    "smooth_l1_loss": dict(expr="F.smooth_l1_loss(x, y)", inputs=XY, args="x, y"),
    "kl_div": dict(
        expr="F.kl_div(torch.log(x), y, reduction='batchmean')",
        inputs="torch.rand(4, 9).softmax(-1), torch.rand(4, 9).softmax(-1)",
        args="x, y",
    ),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**REDUCTIONS[name]), tmp_path, name)


@pytest.mark.parametrize("name", sorted(NORMALIZATIONS))
def test_normalization_or_loss_matches_reference(name: str, tmp_path: Path) -> None:
    check(task(**NORMALIZATIONS[name]), tmp_path, name)


def test_rows_longer_than_the_persistent_limit_leave_the_register_kernel(tmp_path: Path) -> None:
    # two rows of 17000: too long for registers, too few for the looped kernel: split
    code = check(task("torch.softmax(x, dim=1) * 3", inputs="torch.randn(2, 17000)"), tmp_path)
    assert "PERSISTENT_R = 16384" in code and "if block_r <= PERSISTENT_R:" in code
    assert "for r0 in range(split * CHUNK, split * CHUNK + CHUNK, BLOCK_R):" in code


LOOPED_CASES = {**REDUCTIONS, **NORMALIZATIONS}


@pytest.mark.parametrize("name", sorted(LOOPED_CASES))
def test_looped_kernel_matches_reference(name: str, tmp_path: Path) -> None:
    """The same references through the kernel that walks each row in several blocks."""
    source = task(**LOOPED_CASES[name])
    check_code(source, render_with(source, LOOPED), tmp_path)


def test_looped_kernel_gathers_statistics_in_one_pass() -> None:
    """Softmax's max and sum (online) and a norm's mean and variance (Welford) take one
    loop, so the looped kernel reads each row twice: once for them, once to store."""
    for name in ("softmax", "log_softmax", "layer_norm", "softmax_first_dim"):
        code = render_with(task(**NORMALIZATIONS[name]), LOOPED)
        looped = code[code.index("def op_looped_kernel") : code.index("class ModelNew")]
        assert looped.count("for r0 in range(0, R, BLOCK_R):") == 2, name
        assert "together (online softmax)" in looped or "together (Welford)" in looped


# tall inputs reduced over dim 0: with TILE_R = 8 the split cuts R into several chunks
TALL = "torch.randn(40, 6)"
SPLIT_CASES = {
    **{
        name: LOOPED_CASES[name]
        for name in (
            "sum_last",
            "sum_all",
            "sum_first_of_3d",
            "mean_two_dims",
            "mean_bf16",
            "amax",
            "l2_norm",
            "inf_norm",
            "frobenius_norm_divide",
            "normalize",
            "var",
            "std_keepdim",
            "row_bias_after",
            "sum_fp16",
            "softmax",
            "softmax_first_dim",
            "softmax_bf16",
            "log_softmax",
            "logsumexp",
            "logsumexp_keepdim",
            "layer_norm",
            "layer_norm_two_dims",
            "rms_norm_functional",
            "mse_loss",
            "huber_loss",
            "kl_div",
        )
    },
    "sum_dim0_tall": dict(expr="torch.sum(x, dim=0)", inputs=TALL),
    "max_dim0_tall_fp16": dict(
        expr="torch.amax(x, dim=0)", inputs="torch.randn(40, 6, dtype=torch.float16)"
    ),
    "min_dim1_tall": dict(expr="torch.amin(x, dim=1)", inputs="torch.randn(2, 40, 5)"),
    "softmax_dim0_tall": dict(expr="torch.softmax(x, dim=0)", inputs=TALL),
    "var_dim0_tall": dict(expr="torch.var(x, dim=0)", inputs=TALL),
}


@pytest.mark.parametrize("name", sorted(SPLIT_CASES))
def test_split_kernels_match_reference(name: str, tmp_path: Path) -> None:
    """Single-pass reductions (statistics fused) with R cut into chunks reduced by separate
    programs, then merged; full-size outputs are stored chunk by chunk."""
    source = task(**SPLIT_CASES[name])
    code = render_with(source, SPLIT)
    assert "op_partial_kernel[(programs, split)]" in code
    check_code(source, code, tmp_path)


@pytest.mark.parametrize("name", ["argmax", "prod", "max_values_and_indices"])
def test_reductions_that_cannot_merge_partials_are_not_split(name: str) -> None:
    assert "op_partial_kernel" not in render_with(task(**REDUCTIONS[name]), SPLIT)


# short rows packed four to a program (16 elements each), 30 rows: the last pack is ragged
PACKED = {**REDUCTION_CONFIGS[0], "PACK_BLOCK": 64}
PACKED_CASES = {
    "sum": "torch.sum(x, dim=1)",
    "max": "torch.amax(x, dim=-1)",
    "min_values_and_indices": "torch.min(x, dim=1)",
    "argmax": "torch.argmax(x, dim=1)",
    "prod": "torch.prod(x, dim=1)",
    "softmax": "torch.softmax(x, dim=1)",
    "cumsum": "torch.cumsum(x, dim=1)",
}


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", sorted(PACKED_CASES))
def test_short_rows_share_a_program(name: str, dtype: str, tmp_path: Path) -> None:
    inputs = f"torch.rand(30, 13, dtype=torch.{dtype}) + 0.5"
    source = task(PACKED_CASES[name], inputs=inputs)
    code = render_with(source, PACKED)
    assert "block_m = min(max(PACK_BLOCK // block_r, 1), triton.next_power_of_2(n_rows))" in code
    check_code(source, code, tmp_path)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize(
    "expr", ["torch.sum(x, dim=0)", "torch.argmin(x, dim=0)", "torch.softmax(x, dim=0)"]
)
def test_neighbouring_strided_rows_share_a_register_block(
    expr: str, dtype: str, tmp_path: Path
) -> None:
    """Rows along the innermost dim, held in registers 16 or more at a time (20 rows: one
    ragged block of 32)."""
    source = task(expr, inputs=f"torch.randn(9, 20, dtype=torch.{dtype})")
    code = check(source, tmp_path)
    assert "if 16 * block_r <= PERSISTENT_R:" in code


def _suite(name: str) -> str:
    return (SUITE / f"{name}.py").read_text()


CONFIGS = {"looped": LOOPED, "split": SPLIT}


@pytest.mark.parametrize("config", ["default", *CONFIGS])
@pytest.mark.parametrize(
    "name", ["reduction_prod_lastdim", "reduction_max_dim0", "reduction_min_dim1"]
)
def test_suite_reductions_match_reference(name: str, config: str, tmp_path: Path) -> None:
    source = _suite(name)
    if config == "default":
        check(source, tmp_path)
    else:
        check_code(source, render_with(source, CONFIGS[config]), tmp_path)


def test_short_rows_of_the_suite_pack_into_programs(tmp_path: Path) -> None:
    """prod over 262144 rows of 64: 32 rows (2048 elements) per program, 4 warps."""
    launches = full_size_launches(_suite("reduction_prod_lastdim"), tmp_path)
    assert launches == [("op_kernel", (8192,), {"BLOCK_M": 32, "BLOCK_R": 64, "num_warps": 4})]


@pytest.mark.parametrize(
    ("name", "tiles", "split"),
    [("reduction_max_dim0", 32, 32), ("reduction_min_dim1", 64, 16)],
)
def test_few_column_tiles_split_the_reduced_dim(
    name: str, tiles: int, split: int, tmp_path: Path
) -> None:
    """amax over dim 0 of 8192x4096 has 32 tiles of 128 columns; amin over dim 1 of
    16x4096x512 has 64: each tile's R is cut so that about 1024 programs run, each
    reading 256 rows of 128 contiguous floats, then one program per tile merges."""
    launches = full_size_launches(_suite(name), tmp_path)
    assert [(kernel, grid) for kernel, grid, _ in launches] == [
        ("op_partial_kernel", (tiles, split)),
        ("op_combine_kernel", (tiles,)),
    ]
    assert launches[0][2] == {"BLOCK_M": 128, "BLOCK_R": 32, "num_warps": 4}


# few tiles of 64 rows and no split: tiles narrow to 16 rows, 16 elements of R per step
NARROWED = {**LOOPED, "TILE_K": 64, "TILE_R": 4, "SPLIT_PROGRAMS": 8}


@pytest.mark.parametrize(
    "expr", ["torch.argmax(x, dim=1)", "torch.prod(x, dim=1)", "torch.cumsum(x, dim=1)"]
)
def test_few_tiles_narrow_when_the_reduction_cannot_split(expr: str, tmp_path: Path) -> None:
    source = task(expr, inputs="torch.rand(2, 20, 24) + 0.5")
    code = render_with(source, NARROWED)
    assert "op_partial_kernel" not in code
    assert "BLOCK_M=block_m, BLOCK_R=TILE_K * TILE_R // block_m" in code
    check_code(source, code, tmp_path)
