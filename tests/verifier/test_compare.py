"""Output comparison: tolerances by dtype, NaN/Inf positions, shapes, error details."""

from __future__ import annotations

import torch

from verifier.compare import compare_outputs


def test_equal_within_tolerance() -> None:
    ref = torch.randn(8, 8)
    assert compare_outputs(ref, ref + 1e-6, {}) is None


def test_mismatch_reports_errors_and_first_bad_index() -> None:
    ref = torch.ones(4, 5)
    cand = ref.clone()
    cand[2, 3] = 3.0
    cand[3, 0] = 1.5
    found = compare_outputs(ref, cand, {})
    assert found is not None
    assert found.first_bad_index == [2, 3]
    assert found.max_abs_err == 2.0
    assert found.frac_mismatch == 2 / 20
    assert "first bad index [2, 3]" in found.message


def test_nan_positions_must_match() -> None:
    ref = torch.tensor([1.0, float("nan"), 2.0])
    assert compare_outputs(ref, ref.clone(), {}) is None
    moved = torch.tensor([float("nan"), 1.0, 2.0])
    found = compare_outputs(ref, moved, {})
    assert found is not None and "NaN" in found.message and found.first_bad_index == [0]


def test_inf_sign_must_match() -> None:
    ref = torch.tensor([float("inf"), 1.0])
    assert compare_outputs(ref, torch.tensor([float("-inf"), 1.0]), {}) is not None


def test_dtype_tolerances_and_overrides() -> None:
    ref = torch.ones(16, dtype=torch.float16)
    assert compare_outputs(ref, ref + 0.005, {}) is None
    assert compare_outputs(ref, ref + 0.005, {"float16": (1e-4, 1e-4)}) is not None


def test_shape_dtype_and_count() -> None:
    ref = torch.ones(2, 3)
    assert "shape" in compare_outputs(ref, torch.ones(3, 2), {}).message
    assert "dtype" in compare_outputs(ref, torch.ones(2, 3, dtype=torch.float64), {}).message
    assert "outputs" in compare_outputs((ref, ref), ref, {}).message
