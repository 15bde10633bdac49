"""Pooling windows as kernel source: where each window position reads, which positions
may fall in the padding (and so need a bounds check), and average pooling's divisor.

Everything here is text about one spatial dim of one output point: `out` is the output
index (`i2`, or `0` along a size-1 dim), `size` the input's extent there (a literal or a
kernel argument). Checks that the geometry already guarantees are left out, so a window
with no padding reads with plain loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch.fx import Node as FxNode

MAX_POOLS = {"max_pool2d_with_indices": 2, "max_pool3d_with_indices": 3, "max_pool2d": 2}
MAX_POOLS |= {"max_pool1d": 1, "max_pool3d": 3}
AVG_POOLS = {"avg_pool2d": 2, "avg_pool3d": 3, "avg_pool1d": 1}
POOLS = MAX_POOLS.keys() | AVG_POOLS.keys()


class BadPool(ValueError):
    """Arguments the kernel does not take; the message says which."""


@dataclass(frozen=True)
class PoolSpec:
    """One pooling op's arguments, one entry per spatial dim."""

    kind: str  # "max" | "avg"
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    count_include_pad: bool
    divisor_override: int | None

    @property
    def offsets(self) -> list[tuple[int, ...]]:
        """Every position of the window, row-major."""
        positions: list[tuple[int, ...]] = [()]
        for k in self.kernel:
            positions = [(*p, j) for p in positions for j in range(k)]
        return positions


def _per_dim(
    value: Any, nd: int, what: str, default: tuple[int, ...] | None = None
) -> tuple[int, ...]:
    if value is None or value == []:
        if default is None:
            raise BadPool(f"no {what}")
        return default
    values = [value] if isinstance(value, int) else list(value)
    if len(values) == 1:
        values = values * nd
    if len(values) != nd or not all(isinstance(v, int) for v in values):
        raise BadPool(f"{what} {value!r} is not {nd} integers")
    return tuple(values)


def pool_spec(node: FxNode, op: str) -> PoolSpec:
    """The op's arguments in the aten schema's order, filled with its defaults."""
    nd = MAX_POOLS.get(op) or AVG_POOLS[op]
    names = ["kernel_size", "stride", "padding"]
    names += ["dilation", "ceil_mode"] if op in MAX_POOLS else ["ceil_mode", "count_include_pad"]
    names += [] if op in MAX_POOLS else ["divisor_override"]
    args = dict(zip(names, node.args[1:], strict=False)) | dict(node.kwargs)
    kernel = _per_dim(args.get("kernel_size"), nd, "kernel_size")
    override = args.get("divisor_override")
    if override is not None and not isinstance(override, int):
        raise BadPool(f"divisor_override {override!r} is not an integer")
    return PoolSpec(
        kind="max" if op in MAX_POOLS else "avg",
        kernel=kernel,
        stride=_per_dim(args.get("stride"), nd, "stride", kernel),
        padding=_per_dim(args.get("padding"), nd, "padding", (0,) * nd),
        dilation=_per_dim(args.get("dilation"), nd, "dilation", (1,) * nd),
        ceil_mode=bool(args.get("ceil_mode", False)),
        count_include_pad=bool(args.get("count_include_pad", True)),
        divisor_override=override,
    )


def _plus(expr: str, shift: int) -> str:
    if shift == 0:
        return expr
    if expr == "0":
        return str(shift)
    return f"{expr} + {shift}" if shift > 0 else f"{expr} - {-shift}"


def _start(out: str, stride: int) -> str:
    """The window's first position before padding: out * stride."""
    if out == "0":
        return "0"
    return out if stride == 1 else f"{out} * {stride}"


@dataclass(frozen=True)
class Position:
    """Where one window position reads along one dim: the index, and the condition (empty
    when always true) under which it is inside the input; the load is masked off outside,
    so the index needs no clamping and stays contiguous along the output's last dim."""

    index: str
    inside: list[str]


def position(
    spec: PoolSpec, j: int, k: int, out: str, size: str, bounded: bool = False
) -> Position:
    """Window position k along spatial dim j of the output point at index `out`; `bounded`
    checks both of the input's bounds even where the output's geometry needs neither."""
    pad, dilation, kernel = spec.padding[j], spec.dilation[j], spec.kernel[j]
    pos = _plus(_start(out, spec.stride[j]), k * dilation - pad)
    # before the input only when the shift is negative; past its end only in the padding
    # after it (floor mode: the last window ends at most `pad` past the input) or ceil mode
    low = bounded or k * dilation - pad < 0
    high = bounded or spec.ceil_mode or pad > dilation * (kernel - 1 - k)
    inside = ([f"({pos} >= 0)"] if low else []) + ([f"({pos} < {size})"] if high else [])
    return Position(pos, inside)


def divisor(spec: PoolSpec, outs: Sequence[str], sizes: Sequence[str]) -> str:
    """Average pooling's divisor at one output point: the window's size counted within the
    padded input (count_include_pad) or within the input, or the override."""
    if spec.divisor_override is not None:
        return str(spec.divisor_override)
    factors: list[str] = []
    constant = 1
    for j, (out, size) in enumerate(zip(outs, sizes, strict=True)):
        kernel, pad = spec.kernel[j], spec.padding[j]
        start = _plus(_start(out, spec.stride[j]), -pad)
        if spec.count_include_pad and not spec.ceil_mode:
            constant *= kernel
        elif spec.count_include_pad:
            end = f"tl.minimum({_plus(start, kernel)}, {size} + {pad})"
            factors.append(f"({end} - ({start}))")
        elif pad == 0 and not spec.ceil_mode:
            constant *= kernel
        else:
            end = f"tl.minimum({_plus(start, kernel)}, {size})"
            factors.append(f"({end} - tl.maximum({start}, 0))")
    if constant != 1 or not factors:
        factors.insert(0, str(constant))
    return " * ".join(factors)
