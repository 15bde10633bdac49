"""Output layout: each output tensor has the reference's strides and sits on the job's device.

Values are compared elsewhere (``compare.py``); here a candidate that returns a transposed
layout, or results left on the host, is told so. Strides of size-1 dimensions do not
matter; a non-contiguous reference output (a view) accepts a contiguous candidate output.
"""

from __future__ import annotations

from typing import Any

import torch

from verifier.compare import Mismatch, flatten_outputs
from verifier.frameworks import to_torch


def _strides_that_matter(tensor: torch.Tensor) -> tuple[int, ...]:
    return tuple(s for s, n in zip(tensor.stride(), tensor.shape, strict=True) if n > 1)


def _on(tensor: torch.Tensor, device: torch.device) -> bool:
    """Whether ``tensor`` is on ``device`` ("cuda" without an index means any GPU).

    CPU tensors carry no index: a pool's ``cpu:1`` slot is the same host memory as ``cpu``.
    """
    same_type = tensor.device.type == device.type
    if device.type == "cpu":
        return same_type
    return same_type and (device.index is None or tensor.device.index == device.index)


def layout_mismatch(expected: Any, out: Any, device: str) -> Mismatch | None:
    """What differs in the strides or device of the outputs; None when the layout matches."""
    ref_leaves = [to_torch(v) for v in flatten_outputs(expected)]
    cand_leaves = flatten_outputs(out)
    for i, (ref, cand) in enumerate(zip(ref_leaves, cand_leaves, strict=False)):
        if not (isinstance(ref, torch.Tensor) and isinstance(cand, torch.Tensor)):
            continue
        label = f"output {i}" if len(ref_leaves) > 1 else "output"
        if not _on(cand, torch.device(device)):
            return Mismatch(
                f"{label} is on {cand.device}, expected {device}: return device tensors"
            )
        if cand.shape != ref.shape:
            continue  # the value comparison names the shape
        wanted = _strides_that_matter(ref)
        got = _strides_that_matter(cand)
        contiguous_instead_of_view = not ref.is_contiguous() and cand.is_contiguous()
        if got != wanted and not contiguous_instead_of_view:
            return Mismatch(
                f"{label} has strides {tuple(cand.stride())}, expected {tuple(ref.stride())} "
                "(the reference's layout); allocate it like the reference's output"
            )
    return None
