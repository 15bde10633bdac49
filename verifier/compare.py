"""Comparison of a candidate's outputs with the reference's, with tolerances by dtype."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from verifier.frameworks import to_torch

WHOLE_TENSOR_CHUNK = 1 << 24  # elements a whole-tensor check widens or copies at a time


def flat_chunks(t: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``t`` flattened, in pieces of ``WHOLE_TENSOR_CHUNK`` elements: checks over a whole
    input (a 17 GB KernelBench tensor) widen or copy one piece at a time, never all of it."""
    return t.reshape(-1).split(WHOLE_TENSOR_CHUNK)


DEFAULT_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1e-4, 1e-4),
    "float16": (1e-2, 1e-2),
    "bfloat16": (2e-2, 2e-2),
}


@dataclass
class Mismatch:
    message: str
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    frac_mismatch: float | None = None
    first_bad_index: list[int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def flatten_outputs(value: Any) -> list[Any]:
    """The leaves of a (possibly nested) tuple/list/dict output, in order."""
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in flatten_outputs(item)]
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in flatten_outputs(value[key])]
    return [value]


def tolerance_for(
    dtype: torch.dtype, overrides: dict[str, tuple[float, float]]
) -> tuple[float, float]:
    name = str(dtype).removeprefix("torch.")
    if name in overrides:
        return overrides[name]
    return DEFAULT_TOLERANCES.get(name, (0.0, 0.0))


def compare_outputs(
    reference: Any,
    candidate: Any,
    overrides: dict[str, tuple[float, float]],
    slack: list[Slack] | None = None,
) -> Mismatch | None:
    """None when every output leaf matches; otherwise what differs, and where.

    ``slack`` adds to each output leaf's absolute tolerance, as one number or element by
    element (a tensor of the leaf's shape, or an ``ElementSlack``; see
    ``trials.check_outputs``).
    """
    ref_leaves = [to_torch(v) for v in flatten_outputs(reference)]
    cand_leaves = flatten_outputs(candidate)
    if len(ref_leaves) != len(cand_leaves):
        return Mismatch(f"returned {len(cand_leaves)} outputs, expected {len(ref_leaves)}")
    for i, (ref, cand) in enumerate(zip(ref_leaves, cand_leaves, strict=True)):
        label = f"output {i}" if len(ref_leaves) > 1 else "output"
        if isinstance(ref, torch.Tensor):
            extra = slack[i] if slack else 0.0
            found = _compare_tensor(label, ref, cand, overrides, extra)
        elif isinstance(ref, (int, float, bool)):
            cand_value = cand.item() if isinstance(cand, torch.Tensor) else cand
            ok = isinstance(cand_value, (int, float, bool)) and np.isclose(ref, cand_value)
            found = None if ok else Mismatch(f"{label} is {cand_value!r}, expected {ref!r}")
        else:
            found = None if ref == cand else Mismatch(f"{label} differs from the reference")
        if found is not None:
            return found
    return None


class ElementSlack:
    """A per-element slack computed a chunk at a time instead of held whole (a float64
    tensor the size of the output: 17 GB for KernelBench's largest): ``factor *
    max(|a - b|, floor)`` for each element of ``a`` and ``b`` (the reference and its
    float64 run, see ``trials.check_outputs``)."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor, floor: float, factor: float) -> None:
        self.a, self.b, self.floor, self.factor = a, b, floor, factor

    def chunks(self, device: torch.device) -> Iterator[torch.Tensor]:
        for a, b in zip(flat_chunks(self.a), flat_chunks(self.b), strict=True):
            yield self.factor * rounding_gap(a, b, device).clamp_min(self.floor)


def rounding_gap(a: torch.Tensor, b: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``|a - b|`` in float64 on ``device``, NaN and Inf as 0: the reference's distance from
    its float64 run, element by element (the slack and its floor both come from it)."""
    return (a.to(device=device, dtype=torch.float64) - b.to(device)).abs().nan_to_num(0.0, 0.0, 0.0)


Slack = float | torch.Tensor | ElementSlack


@dataclass
class _Tally:
    """What the chunks of one output leaf found, element order kept."""

    n_bad: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    nan_bad: bool = False
    inf_bad: bool = False
    first_bad: int | None = None  # flat index
    got: float = 0.0
    expected: float = 0.0


def _slack_chunks(slack: Slack, shape: torch.Size, device: torch.device) -> Iterator[Any]:
    if isinstance(slack, ElementSlack):
        return slack.chunks(device)
    if isinstance(slack, torch.Tensor):
        return iter(flat_chunks(slack.to(device).reshape(shape)))
    return itertools.repeat(slack)


def _compare_tensor(
    label: str,
    ref: torch.Tensor,
    cand: Any,
    overrides: dict[str, tuple[float, float]],
    slack: Slack = 0.0,
) -> Mismatch | None:
    """Element by element, in flat chunks of ``WHOLE_TENSOR_CHUNK`` so that the widened
    copies and masks of a comparison never take more than a chunk's worth of memory."""
    if not isinstance(cand, torch.Tensor):
        return Mismatch(f"{label} is a {type(cand).__name__}, expected a torch.Tensor")
    if tuple(cand.shape) != tuple(ref.shape):
        return Mismatch(f"{label} has shape {tuple(cand.shape)}, expected {tuple(ref.shape)}")
    if cand.dtype != ref.dtype:
        return Mismatch(f"{label} has dtype {cand.dtype}, expected {ref.dtype}")
    ref = ref.detach().to(cand.device)
    cand = cand.detach()
    if ref.numel() == 0:
        return None
    atol, rtol = tolerance_for(ref.dtype, overrides)
    slacked = isinstance(slack, (torch.Tensor, ElementSlack)) or bool(slack)
    shape = ref.shape
    if ref.is_complex():
        ref, cand = torch.view_as_real(ref), torch.view_as_real(cand)
    work = torch.float64 if ref.dtype == torch.float64 else torch.float32
    if ref.dtype == torch.bool:
        ref, cand = ref.to(torch.int8), cand.to(torch.int8)
    tally, start = _Tally(), 0
    slacks = _slack_chunks(slack, ref.shape, ref.device)
    pieces = zip(flat_chunks(ref), flat_chunks(cand), slacks, strict=False)  # slack may repeat
    for r_piece, c_piece, s_piece in pieces:
        _tally_chunk(tally, start, r_piece.to(work), c_piece.to(work), s_piece, atol, rtol)
        start += r_piece.numel()
    if tally.n_bad == 0 or tally.first_bad is None:
        return None
    flat = tally.first_bad
    if ref.dim() > len(shape):  # complex viewed as real: the element, not its part
        flat //= 2
    index = [int(i) for i in np.unravel_index(flat, tuple(shape))]
    frac = tally.n_bad / ref.numel()
    if tally.nan_bad:
        reason = "NaN positions differ (unwritten or poisoned output memory?)"
    elif tally.inf_bad:
        reason = "Inf positions differ"
    else:
        reason = f"values differ beyond atol={atol:g}, rtol={rtol:g}"
        if slacked:
            reason += " (plus the reference's own rounding error)"
    message = (
        f"{label}: {reason}; {tally.n_bad}/{ref.numel()} elements ({frac:.2%}) off, "
        f"max abs err {tally.max_abs:.3g}, max rel err {tally.max_rel:.3g}; first bad index "
        f"{index}: got {tally.got:.6g}, expected {tally.expected:.6g}"
    )
    return Mismatch(message, tally.max_abs, tally.max_rel, frac, index)


def _tally_chunk(
    tally: _Tally,
    start: int,
    r: torch.Tensor,
    c: torch.Tensor,
    slack: Any,
    atol: float,
    rtol: float,
) -> None:
    nan_bad = torch.isnan(r) != torch.isnan(c)
    inf_bad = (torch.isinf(r) | torch.isinf(c)) & (r != c) & ~torch.isnan(r) & ~torch.isnan(c)
    finite = torch.isfinite(r) & torch.isfinite(c)
    diff = torch.where(finite, (r - c).abs(), torch.zeros_like(r))
    if isinstance(slack, torch.Tensor):
        slack = slack.to(device=r.device, dtype=r.dtype)
    value_bad = finite & (diff > atol + slack + rtol * r.abs())
    bad = nan_bad | inf_bad | value_bad
    n_bad = int(bad.sum().item())
    rel = torch.where(finite, diff / r.abs().clamp_min(1e-12), torch.zeros_like(r))
    tally.max_abs = max(tally.max_abs, float(diff.max().item()))
    tally.max_rel = max(tally.max_rel, float(rel.max().item()))
    if n_bad == 0:
        return
    tally.n_bad += n_bad
    tally.nan_bad = tally.nan_bad or bool(nan_bad.any())
    tally.inf_bad = tally.inf_bad or bool(inf_bad.any())
    if tally.first_bad is None:
        local = int(torch.nonzero(bad)[0].item())
        tally.first_bad = start + local
        tally.got, tally.expected = float(c[local].item()), float(r[local].item())
