"""Host code that gives a matmul's operands 16-byte-aligned rows before the launch.

Triton loads a tile in 16-byte vectors only where it can prove the alignment: every stride
but the contiguous one a multiple of 16 elements (it specialises integer arguments on that),
and a mask that does not change within 16 elements along the contiguous dim. An operand of
8205 x 2949 floats (KernelBench 8), or one whose contiguous dim is M or N of a size that is
not a multiple of 16 (masked at each element), is read in 4-byte copies: on sm_90 every
asynchronous copy of such a kernel is 4 bytes wide, against 16 bytes when the sizes are
multiples of 16. Such an operand, read across enough output columns (or rows) that a copy
costs little next to the product, is copied once per call into a buffer with K contiguous
and rows padded to 16 elements: its loads then run along K, unmasked but in the last K step.
"""

from __future__ import annotations

from typing import Any

from agents.builtin.kernel_writer import INDENT
from agents.builtin.values import DotOperand, Plan

ALIGN = 16  # elements: Triton's divisibility specialisation of integer arguments
# an operand is copied only when read across at least this many output columns (A) or rows
# (B): the copy then moves about 1/ALIGN_MIN_REUSE of the product's bytes per FLOP (~7% of
# an fp32 product's time at 1024 on an H200)
ALIGN_MIN_REUSE = 1024
NAMES = {"strides"}  # the host code's variable


def _aligned(var: str, along: int, rank: int, size_too: bool) -> str:
    """Whether `var` is contiguous along dim `along` with every other stride a multiple of
    ALIGN (and, with size_too, that dim's size one too: it is masked per element)."""
    others = " and ".join(f"strides[{d}] % {ALIGN} == 0" for d in range(rank) if d != along)
    size = f" and {var}.shape[{along}] % {ALIGN} == 0" if size_too else ""
    return f"(strides[{along}] == 1{size} and {others})"


def _copy(var: str, k: int, rank: int) -> str:
    """`var` copied into a buffer with K last, its rows padded to ALIGN elements, viewed back
    in `var`'s shape (the padding is never read: the last K step is masked)."""
    moved = var if k == rank - 1 else f"{var}.movedim({k}, -1)"
    shape = f"(*{moved}.shape[:-1], ({var}.shape[{k}] + {ALIGN - 1}) // {ALIGN} * {ALIGN})"
    buffer = f"torch.empty({shape}, device={var}.device, dtype={var}.dtype)"
    view = f"{buffer}.narrow(-1, 0, {var}.shape[{k}]).copy_({moved})"
    return view if k == rank - 1 else f"{view}.movedim(-1, {k})"


def _operand_lines(operand: DotOperand, other: str, reuse: str, min_reuse: int) -> list[str]:
    var, roles = operand.source, operand.roles
    rank, k, o = len(roles), roles.index("k"), roles.index(other)
    aligned = f"{_aligned(var, k, rank, False)} or {_aligned(var, o, rank, True)}"
    return [
        f"strides = {var}.stride()",
        f"if not narrow and {reuse} >= {min_reuse} and 0 not in strides and not (",
        f"{INDENT}{aligned}",
        "):",
        f"{INDENT}{var} = {_copy(var, k, rank)}",
    ]


def aligned_operand_lines(plan: Plan, config: dict[str, Any]) -> list[str]:
    """Host lines that replace a misaligned operand (broadcast ones aside) by an aligned
    copy when the product reads it across ALIGN_MIN_REUSE columns or rows (a config key)."""
    dot = plan.dot
    assert dot is not None
    min_reuse = int(config.get("ALIGN_MIN_REUSE", ALIGN_MIN_REUSE))
    lines = [
        f"# operands off {ALIGN}-element rows load in 4-byte copies: a copy with K contiguous",
        f"# and rows padded to {ALIGN} elements, where the product reads it {min_reuse}+ times",
        *_operand_lines(dot.a, "m", "n_size", min_reuse),
    ]
    if dot.b.source != dot.a.source:  # one source in both roles: aligned for A only
        lines += _operand_lines(dot.b, "n", "m_size", min_reuse)
    return lines
