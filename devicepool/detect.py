"""Which devices this machine has: CUDA GPUs (honouring CUDA_VISIBLE_DEVICES), Ascend
NPUs when `torch_npu` is installed, and CPU slots. torch is imported only when asked."""

from __future__ import annotations

import importlib.util


def cuda_devices() -> list[str]:
    """`cuda:0..N-1` as torch numbers them; CUDA_VISIBLE_DEVICES already narrows N."""
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def ascend_devices() -> list[str]:
    """`ascend:0..N-1`, or none when torch_npu is not installed."""
    if importlib.util.find_spec("torch_npu") is None:
        return []
    import torch
    import torch_npu  # noqa: F401  (registers torch.npu)

    return [f"ascend:{i}" for i in range(torch.npu.device_count())]  # type: ignore[attr-defined]


def cpu_slots(count: int = 1) -> list[str]:
    """`cpu` for one slot, `cpu:0..N-1` for several verifications at once."""
    return ["cpu"] if count <= 1 else [f"cpu:{i}" for i in range(count)]


def detect_devices(kind: str) -> list[str]:
    """Every device of `kind` on this machine (empty when there is none)."""
    if kind == "cuda":
        return cuda_devices()
    if kind == "ascend":
        return ascend_devices()
    if kind == "cpu":
        return cpu_slots()
    raise ValueError(f"unknown device kind {kind!r}: use cpu, cuda or ascend")
