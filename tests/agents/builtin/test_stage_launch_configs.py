"""Each stage of a multi-stage candidate launches as it would in a candidate of its own: a
GEMM -> group norm candidate launches its norm with the reduction list's warps, not the
GEMM's, for the same configuration index."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agents.builtin import BuiltinProvider
from agents.builtin.search import configs_for
from tests.agents.builtin.builtin_harness import (
    aikg_verify,
    check_code,
    full_size_launches,
    request,
    task,
)

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

FP16 = "dtype=torch.float16"
LINEAR = "self.lin = nn.Linear(16, {c}, " + FP16 + ")"
NORM = "self.gn = nn.GroupNorm(2, {c}, " + FP16 + ")"
NORMED = "F.hardtanh(self.gn({x}), -0.5, 0.5)"
# groups of 16400 elements: past the default's 16384 held in registers, so the norm takes
# the kernels that launch with the configuration's num_warps
WIDE, NARROW = 32800, 24


def _gemm_norm(c: int) -> str:
    body = f"{LINEAR.format(c=c)}; {NORM.format(c=c)}"
    return task(NORMED.format(x="self.lin(x)"), inputs=f"torch.randn(6, 16, {FP16})", body=body)


def _code(source: str, config: dict[str, Any]) -> str:
    """The builtin agent's candidate for `source` with the launch configuration `config`."""
    return asyncio.run(BuiltinProvider().code(replace(request(source), alternative=config))).code


def _launches(source: str, config: dict[str, Any], folder: Path) -> list[tuple[Any, ...]]:
    """(grid, launch keywords) of each kernel launch at full size, kernels recorded."""
    code = _code(source, config)
    return [(grid, options) for _, grid, options in full_size_launches(source, folder, code)]


@pytest.mark.parametrize("index", [0, 4])
def test_each_stage_launches_as_a_candidate_of_its_own(index: int, tmp_path: Path) -> None:
    """The GEMM stage launches as the linear alone does with the matmul list's entry
    `index`, and the norm stage as the norm alone does with the reduction list's."""
    gemm_config, norm_config = configs_for("matmul")[index], configs_for("reduction")[index]
    staged = _launches(_gemm_norm(WIDE), gemm_config, tmp_path)
    gemm_alone = task(
        "self.lin(x)", inputs=f"torch.randn(6, 16, {FP16})", body=LINEAR.format(c=WIDE)
    )
    norm_alone = task(
        NORMED.format(x="x"), inputs=f"torch.randn(6, {WIDE}, {FP16})", body=NORM.format(c=WIDE)
    )
    gemm = _launches(gemm_alone, gemm_config, tmp_path)
    norm = _launches(norm_alone, norm_config, tmp_path)
    assert staged == gemm + norm
    # the two lists' warps differ at this index: the norm's are not the GEMM's
    norm_warps = {options["num_warps"] for _, options in norm}
    assert norm_warps == {norm_config["num_warps"]} != {gemm_config["num_warps"]}


def test_gemm_norm_candidate_passes_the_verifier(tmp_path: Path) -> None:
    """The real `aikg verify` in a subprocess (fresh inputs, fp16 tolerance, the interpreter)
    passes the default candidate; the fifth configuration's (its norm walked in steps with
    8 warps) matches the reference too."""
    source = _gemm_norm(NARROW)
    default = _code(source, configs_for("matmul")[0])
    assert aikg_verify(source, default, tmp_path)["passed"] is True
    check_code(source, _code(source, configs_for("matmul")[4]), tmp_path)
