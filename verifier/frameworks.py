"""The reference frameworks' values as torch tensors and back: NumPy and MindSpore.

A NumPy or MindSpore reference runs on the host; the candidate always gets torch tensors.
Everything crosses through NumPy, except MindSpore bfloat16 (NumPy has no bfloat16),
which crosses as float32 and is cast back. MindSpore is imported only once a task has.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch


class ConversionError(TypeError):
    """A value that has no torch counterpart (an object array, a string array, ...)."""


def _is_mindspore_tensor(value: Any) -> bool:
    ms = sys.modules.get("mindspore")
    return ms is not None and isinstance(value, ms.Tensor)


def to_torch(value: Any) -> Any:
    """NumPy arrays/scalars and MindSpore tensors become torch tensors (same dtype and shape).

    Other values pass through. Raises ConversionError for dtypes torch cannot hold.
    """
    if _is_mindspore_tensor(value):
        ms = sys.modules["mindspore"]
        if value.dtype == ms.bfloat16:
            return torch.from_numpy(value.astype(ms.float32).asnumpy()).to(torch.bfloat16)
        value = value.asnumpy()
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        return value
    if not value.flags.writeable or not value.flags.c_contiguous:
        value = np.array(value, order="C")
    try:
        return torch.from_numpy(value)
    except TypeError as exc:
        raise ConversionError(
            f"a NumPy array of dtype {value.dtype} has no torch dtype: use a numeric or bool dtype"
        ) from exc


def to_reference(value: Any, framework: str) -> Any:
    """A torch tensor as the reference framework takes it (a host copy; other values as is)."""
    if not isinstance(value, torch.Tensor) or framework == "torch":
        return value
    host = value.detach().cpu()
    if framework == "numpy":
        return host.numpy().copy()
    import mindspore as ms

    if host.dtype == torch.bfloat16:
        return ms.Tensor(host.float().numpy().copy()).astype(ms.bfloat16)
    return ms.Tensor(host.numpy().copy())


def seed_frameworks(seed: int) -> None:
    """Seed NumPy, and MindSpore when the task imported it (its initialisers and ops.rand*)."""
    np.random.seed(seed % 2**32)
    ms = sys.modules.get("mindspore")
    if ms is not None:
        ms.set_seed(seed % 2**31)


def reference_state(model: Any) -> dict[str, torch.Tensor]:
    """A reference's named weights as torch tensors, whatever its framework.

    torch: its ``state_dict``; MindSpore: its parameters by name (``dense.weight``);
    a plain NumPy class: its NumPy-array attributes (``self.weight``).
    """
    if isinstance(model, torch.nn.Module):
        return dict(model.state_dict())
    if _is_mindspore_cell(model):
        return {name: to_torch(param) for name, param in model.parameters_and_names()}
    return {
        name: torch.from_numpy(np.array(value))
        for name, value in getattr(model, "__dict__", {}).items()
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
    }


def _is_mindspore_cell(model: Any) -> bool:
    ms = sys.modules.get("mindspore")
    return ms is not None and isinstance(model, ms.nn.Cell)
