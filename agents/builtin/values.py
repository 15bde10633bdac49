"""The small IR between lowering and kernel writing: values, sources, outputs and the plan.

Every value lives in the kernel's iteration space F (a shape of rank `Plan.rank`).
`Value.dims` maps each of the value's own dimensions to the F dimension it walks (None for
a size-1 dimension). Values that vary along the reduced dimensions are "full"; reductions
and values built only from them are "row" values, one per program.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

FULL, ROW = "full", "row"

Formula = Callable[[Sequence[Any], dict[str, Any]], str]


class CannotLower(Exception):
    """An op with no lowering; `args[0]` is its name. Collected so all are named at once."""


class Num(float):
    """A float literal that prints as valid Triton source (inf and nan included)."""

    def __repr__(self) -> str:
        if self != self:
            return 'float("nan")'
        if self in (float("inf"), float("-inf")):
            return f'float("{float(self)}")'
        return float.__repr__(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


def identity(a: Sequence[Any], k: dict[str, Any]) -> str:
    """The formula of a copy, a cast or a view: the operand itself."""
    return str(a[0])


@dataclass(eq=False)
class Value:
    """One value computed by the kernel.

    kind: load (a read of a source), pw (a formula of operands), red (a reduction over the
    reduced dims), scan (a cumulative op along them), dot (the matmul accumulator) or const.
    """

    name: str
    kind: str
    level: str
    dims: tuple[int | None, ...]
    dtype: torch.dtype
    formula: Formula | None = None
    operands: list[Any] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    red_op: str = ""  # red/scan: sum | max | min | prod | argmax | argmin
    source: str = ""  # load: the source's kernel name
    pending: bool = False  # load whose dims are fixed by a later permute
    index: tuple[str, ...] | None = None  # load: index expression per source dim, if not i<d>
    # load: a condition on the indices outside which the load reads nothing and gives
    # `fill` (a pool's window position in the padding), so its index needs no clamping
    guard: str = ""
    fill: str = "0.0"
    # the guard alone keeps the load inside its row along F's last dim: a row-tiled kernel
    # masks it with the row mask and the guard, and the output's bound on that dim (which
    # has no alignment when the output's width is odd) does not cost it its wide loads
    guard_bounds_row: bool = False
    regrouped: bool = False  # lives in the group-norm space (N, G, C/G, *spatial)
    # F dims along which this value's variable holds the logical value at n-1-i (flip)
    flipped: frozenset[int] = frozenset()


def identity_of(
    x: Value,
    name: str,
    dims: tuple[int | None, ...] | None = None,
    flipped: frozenset[int] | None = None,
) -> Value:
    """x itself under another name: a copy, a view that relabels its dims, or x stored
    reversed along more dims."""
    return Value(
        name,
        "pw",
        x.level,
        x.dims if dims is None else dims,
        x.dtype,
        formula=identity,
        operands=[x],
        flipped=x.flipped if flipped is None else flipped,
    )


@dataclass
class Source:
    """A tensor the kernel reads: one pointer argument and its strides."""

    name: str
    host: str
    rank: int
    dtype: torch.dtype


@dataclass
class Output:
    value: Value
    name: str
    shape: list[str]  # host expressions
    dtype: torch.dtype
    index: tuple[str, ...] | None = None  # index expression per output dim, if not i<d>
    returned: str = ""  # host expression returned for it (a view of it), if not itself


@dataclass
class DotOperand:
    """A matmul operand read straight from a source; roles name each source dim (b, m, k, n)."""

    source: str
    roles: tuple[str, ...]


@dataclass
class Dot:
    a: DotOperand
    b: DotOperand
    k_size: str  # host expression of the contraction size
    # true for a tile (pid_m, pid_n) the epilogue zeroes entirely (triu of the product)
    zero_tiles: str = ""


@dataclass
class Conv:
    """A convolution read as an implicit GEMM: (output pixels) x (C_in/groups * taps) times
    (C_in/groups * taps) x (C_out/groups), one GEMM per group, addressed by index arithmetic."""

    x: str  # the input's source name
    w: str  # the weight's source name
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    transposed: bool
    groups: int


@dataclass(frozen=True)
class HostScalar:
    """A size known on the host (sym_size); becomes a kernel argument when used."""

    name: str
    host: str


@dataclass(frozen=True)
class NotLowered:
    """A result no kernel computes (size arithmetic, reshapes, repeats); fails only if used."""

    op: str


@dataclass(frozen=True)
class DerivedSize:
    """An F size that no traced tensor has, e.g. channels per group: C // G."""

    host: str

    def __str__(self) -> str:
        return f"<{self.host}>"


@dataclass
class Plan:
    """What the kernel writer and renderer need."""

    family: str  # pointwise | reduction | matmul | conv
    rank: int
    f_sizes: list[str]  # host expression of each F dimension
    reduced: tuple[int, ...]
    sources: list[Source]
    scalars: list[tuple[str, str]]  # (kernel name, host expression)
    outputs: list[Output]
    fused: list[str]  # aten ops fused, in graph order
    reductions: list[Value]
    flat: bool  # every tensor walks F contiguously: plain 1-D offsets
    dot: Dot | None = None
    conv: Conv | None = None
    has_cumprod: bool = False
    # pointwise: programs take a tile of rows by a block of the last dim (no division for
    # the last dim's index, contiguous along it) instead of BLOCK_SIZE flat elements
    row_tiles: bool = False
