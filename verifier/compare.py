"""Comparison of a candidate's outputs with the reference's, with tolerances by dtype."""

from __future__ import annotations

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
    slack: list[float | torch.Tensor] | None = None,
) -> Mismatch | None:
    """None when every output leaf matches; otherwise what differs, and where.

    ``slack`` adds to each output leaf's absolute tolerance, as one number or element by
    element (a tensor of the leaf's shape; see ``trials.check_outputs``).
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


def _compare_tensor(
    label: str,
    ref: torch.Tensor,
    cand: Any,
    overrides: dict[str, tuple[float, float]],
    slack: float | torch.Tensor = 0.0,
) -> Mismatch | None:
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
    if ref.is_complex():
        ref, cand = torch.view_as_real(ref), torch.view_as_real(cand)
    work = torch.float64 if ref.dtype == torch.float64 else torch.float32
    if ref.dtype == torch.bool:
        ref, cand = ref.to(torch.int8), cand.to(torch.int8)
    r, c = ref.to(work), cand.to(work)
    nan_bad = torch.isnan(r) != torch.isnan(c)
    inf_bad = (torch.isinf(r) | torch.isinf(c)) & (r != c) & ~torch.isnan(r) & ~torch.isnan(c)
    finite = torch.isfinite(r) & torch.isfinite(c)
    diff = torch.where(finite, (r - c).abs(), torch.zeros_like(r))
    if isinstance(slack, torch.Tensor):
        slack = slack.to(device=r.device, dtype=work).reshape(r.shape)
    value_bad = finite & (diff > atol + slack + rtol * r.abs())
    bad = nan_bad | inf_bad | value_bad
    n_bad = int(bad.sum().item())
    if n_bad == 0:
        return None
    rel = diff / r.abs().clamp_min(1e-12)
    max_abs = float(diff.max().item())
    max_rel = float(torch.where(finite, rel, torch.zeros_like(rel)).max().item())
    flat = int(torch.nonzero(bad.reshape(-1))[0].item())
    index = [int(i) for i in np.unravel_index(flat, tuple(ref.shape))]
    frac = n_bad / ref.numel()
    if bool(nan_bad.any()):
        reason = "NaN positions differ (unwritten or poisoned output memory?)"
    elif bool(inf_bad.any()):
        reason = "Inf positions differ"
    else:
        reason = f"values differ beyond atol={atol:g}, rtol={rtol:g}"
        if isinstance(slack, torch.Tensor) or slack:
            reason += " (plus the reference's own rounding error)"
    at = tuple(index)
    message = (
        f"{label}: {reason}; {n_bad}/{ref.numel()} elements ({frac:.2%}) off, "
        f"max abs err {max_abs:.3g}, max rel err {max_rel:.3g}; first bad index {list(at)}: "
        f"got {c.reshape(-1)[flat].item():.6g}, expected {r.reshape(-1)[flat].item():.6g}"
    )
    return Mismatch(message, max_abs, max_rel, frac, index)
