"""Precision parity: the reference and the candidate run under the same math flags.

A candidate's module code or constructor could relax the process-wide flags
(``torch.set_float32_matmul_precision("high")``, TF32 in cuBLAS/cuDNN), so the reference
loses precision to match a kernel that took a shortcut. ``pinned_precision`` sets the
flags the worker started with around every run of either, and restores what was there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PrecisionFlags:
    float32_matmul_precision: str
    cuda_matmul_allow_tf32: bool
    cudnn_allow_tf32: bool
    reduced_precision_fp16: bool
    reduced_precision_bf16: bool

    @classmethod
    def current(cls) -> PrecisionFlags:
        matmul = torch.backends.cuda.matmul
        return cls(
            torch.get_float32_matmul_precision(),
            bool(matmul.allow_tf32),
            bool(torch.backends.cudnn.allow_tf32),
            bool(matmul.allow_fp16_reduced_precision_reduction),
            bool(matmul.allow_bf16_reduced_precision_reduction),
        )

    def apply(self) -> None:
        matmul = torch.backends.cuda.matmul
        torch.set_float32_matmul_precision(self.float32_matmul_precision)
        matmul.allow_tf32 = self.cuda_matmul_allow_tf32
        torch.backends.cudnn.allow_tf32 = self.cudnn_allow_tf32
        matmul.allow_fp16_reduced_precision_reduction = self.reduced_precision_fp16
        matmul.allow_bf16_reduced_precision_reduction = self.reduced_precision_bf16


# What the worker process started with, before any task or candidate was imported.
STARTUP_FLAGS = PrecisionFlags.current()


@contextlib.contextmanager
def pinned_precision(flags: PrecisionFlags = STARTUP_FLAGS) -> Iterator[None]:
    """Runs the block under ``flags``; restores the flags found on entry afterwards."""
    found = PrecisionFlags.current()
    flags.apply()
    try:
        yield
    finally:
        found.apply()
