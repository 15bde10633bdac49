"""FLOPs of one forward of the reference, counted by torch on the meta device.

A task file may say its FLOPs (``flops(inputs, init_inputs)``, ``timing.task_flops``);
otherwise the reference runs once under ``torch.utils.flop_counter.FlopCounterMode`` with
its parameters, buffers and inputs swapped for meta tensors (nothing computed, nothing
allocated). torch counts matmuls, convolutions and attention, and nothing for pointwise
work or reductions, so a count of zero means memory-bound. Before this, a matmul's FLOPs
were guessed from its first two inputs' shapes, which missed transposed operands
(KernelBench 16-18) and every convolution: they were reported as memory-bound kernels at
2% of copy bandwidth.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch


def _meta(value: Any) -> Any:
    return torch.empty_like(value, device="meta") if isinstance(value, torch.Tensor) else value


def counted_flops(reference: Any, inputs: list[Any]) -> float | None:
    """torch's count of the reference's FLOPs on these inputs' shapes; None where it counts
    none (pointwise, reductions) or cannot run the reference on meta tensors."""
    if not isinstance(reference, torch.nn.Module):
        return None
    from torch.func import functional_call
    from torch.utils.flop_counter import FlopCounterMode

    state = itertools.chain(reference.named_parameters(), reference.named_buffers())
    meta_state = {name: _meta(value) for name, value in state}
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            functional_call(reference, meta_state, tuple(_meta(v) for v in inputs))
        total = counter.get_total_flops()
    except Exception:  # a reference that needs real data (or another device) has no count
        return None
    return float(total) if total > 0 else None
