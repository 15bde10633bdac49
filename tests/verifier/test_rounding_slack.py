"""A candidate as accurate as the reference passes even where two summation orders differ."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from verifier import compare
from verifier.compare import ElementSlack, compare_outputs
from verifier.trials import ROUNDING_SLACK, TrialInputs, check_outputs, rounding_gap_floor

TIGHT = {"float32": (1e-7, 1e-7)}  # tighter than any reordered fp32 sum can meet


class CumSum(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x, dim=-1)


def _inputs(x: torch.Tensor) -> TrialInputs:
    return TrialInputs([x.clone()], [x.clone()], [x])


def _data() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(4, 8192)


def _blocked_cumsum(x: torch.Tensor, block: int = 256) -> torch.Tensor:
    """A correct cumsum in another order: per-block scans plus the running block totals."""
    parts = x.reshape(x.shape[0], -1, block)
    inner = parts.cumsum(-1)
    offsets = inner[..., -1].cumsum(-1) - inner[..., -1]
    return (inner + offsets[..., None]).reshape(x.shape)


def test_another_correct_order_passes_where_the_plain_comparison_fails() -> None:
    x = _data()
    reference = CumSum()
    expected = reference(x)
    out = _blocked_cumsum(x)
    assert compare_outputs(expected, out, TIGHT) is not None  # the orders really differ
    assert check_outputs(expected, out, TIGHT, reference, _inputs(x)) is None


def test_an_inaccurate_candidate_still_fails() -> None:
    x = _data()
    reference = CumSum()
    expected = reference(x)
    out = (x.half().float()).cumsum(-1)  # inputs rounded to fp16 first: a real error
    mismatch = check_outputs(expected, out, {}, reference, _inputs(x))
    assert mismatch is not None
    assert "values differ" in mismatch.message


def test_shape_errors_are_not_excused() -> None:
    x = _data()
    reference = CumSum()
    mismatch = check_outputs(reference(x), x[:, :-1], {}, reference, _inputs(x))
    assert mismatch is not None and "shape" in mismatch.message


def test_a_reference_that_cannot_run_in_float64_keeps_the_plain_comparison() -> None:
    class HalfOnly(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.dtype != torch.float32:
                raise TypeError("float32 only")
            return x.cumsum(-1)

    x = _data()
    reference = HalfOnly()
    out = _blocked_cumsum(x)
    assert check_outputs(reference(x), out, TIGHT, reference, _inputs(x)) is not None


def test_one_ill_conditioned_element_does_not_widen_the_tolerance_elsewhere() -> None:
    """A cancellation (1e8 - 1e8) leaves the reference's cumsum off by units near the end of
    row 0; a candidate off by 0.5 in row 5, where the reference is exact, must still fail."""
    torch.manual_seed(0)
    x = torch.randn(8, 1024)
    x[0, 1000], x[0, 1010] = 1e8, -1e8
    reference = CumSum()
    expected = reference(x)
    truth = x.double().cumsum(-1)
    assert float((expected.double() - truth).abs().max()) > 1.0  # really ill-conditioned
    out = truth.float()
    out[5, 100] += 0.5
    mismatch = check_outputs(expected, out, {}, reference, _inputs(x))
    assert mismatch is not None
    assert mismatch.first_bad_index == [5, 100]


def test_the_gap_floor_of_a_large_output_comes_from_an_even_sample() -> None:
    """Past the sample size the floor is the percentile of every n-th gap: close to the
    exact one on smooth data, and never a kthvalue over the whole output (CUDA refuses
    2**31 elements, KernelBench's 87_conv_pointwise_2D has that many)."""
    torch.manual_seed(0)
    truth = torch.zeros(1000, 1000, dtype=torch.float64)
    expected = torch.rand(1000, 1000)  # gaps uniform on [0, 1): the 90th percentile is 0.9
    exact = rounding_gap_floor(expected, truth)
    sampled = rounding_gap_floor(expected, truth, sample=10_000)
    assert abs(sampled - 0.9) < 0.02 and abs(exact - 0.9) < 0.01
    assert sampled != exact  # the sample path really ran


def test_the_per_element_slack_is_made_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunked, the comparison with slack finds the same elements as whole: one element
    past its slack in the second of three chunks is found, at its index."""
    monkeypatch.setattr(compare, "WHOLE_TENSOR_CHUNK", 1000)
    torch.manual_seed(0)
    truth = torch.randn(3, 1000, dtype=torch.float64)
    expected = (truth + 1e-3 * torch.randn(3, 1000, dtype=torch.float64)).float()
    slack = ElementSlack(expected, truth, rounding_gap_floor(expected, truth), ROUNDING_SLACK)
    narrowed = truth.float()
    assert compare_outputs(narrowed, narrowed + 1e-4, TIGHT, [slack]) is None
    out = narrowed.clone()
    out[1, 7] += 1.0  # far past any rounding
    found = compare_outputs(narrowed, out, TIGHT, [slack])
    assert found is not None and found.first_bad_index == [1, 7] and found.frac_mismatch == 1 / 3000
