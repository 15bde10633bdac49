"""The walk's state and the calls that build Values in F: `LoweringState`, the one
implementation of `LoweringContext` (lowering_context.py).

It holds the iteration space, the values built so far (by fx node name), the tensors and
scalars the kernel reads, the reductions, and what the matmul or convolution adds; its
methods make pointwise values (torch broadcasting onto F, flips carried along), reductions,
loads and operands. Every op's lowering builds through it.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch.fx import Node as FxNode

from agents.builtin import flips
from agents.builtin.conv_lowering import CONV_LOCALS
from agents.builtin.errors import LLM_HINT
from agents.builtin.fx_nodes import is_one
from agents.builtin.host_sizes import host_size, size_expression
from agents.builtin.iteration_space import IterationSpace
from agents.builtin.matmul_launch import NAMES as MATMUL_NAMES
from agents.builtin.reference import Traced
from agents.builtin.values import (
    FULL,
    ROW,
    CannotLower,
    Conv,
    Dot,
    Formula,
    HostScalar,
    NotLowered,
    Num,
    Source,
    Value,
)
from agents.types import Unsupported

# names the kernel and its host wrapper use for themselves
RESERVED = {"pid", "offsets", "mask", "row", "r", "r0", "rmask", "R", "K", "n_elements", "grid"}
RESERVED |= {"n_rows", "out", "tl", "triton", "torch", "nn", "self", "acc", "a", "b", "k"}
RESERVED |= {"BLOCK_SIZE", "BLOCK_R", "BLOCK_M", "BLOCK_N", "BLOCK_K", "BLOCK_S"}
# reductions: the kernels' row and split variables, the host's launch variables
RESERVED |= {"rows", "row_mask", "s", "smask", "split", "chunk"}
RESERVED |= {"programs", "block_r", "block_m", "warps"}
RESERVED |= MATMUL_NAMES
RESERVED |= CONV_LOCALS


def _depends_on_scan(v: Any) -> bool:
    if not isinstance(v, Value):
        return False
    return v.kind == "scan" or any(_depends_on_scan(o) for o in v.operands)


class LoweringState:
    """One graph's lowering in progress, in its iteration space."""

    def __init__(self, traced: Traced, space: IterationSpace) -> None:
        self.traced = traced
        self.gm = traced.graph
        self.values: dict[str, Any] = {}
        self.sources: dict[str, Source] = {}
        self.scalars: dict[str, str] = {}
        self.reductions: list[Value] = []
        self.fused: list[str] = []
        self.counter = 0
        computed = {n.name for n in self.gm.graph.nodes if n.op != "placeholder"}
        self.taken = computed | RESERVED  # names a load of an input must not take
        self.dot: Dot | None = None
        self.returned_views: dict[str, str] = {}  # a view of the product -> its host calls
        self.conv: Conv | None = None
        self.has_cumprod = False
        self.group_norm = space.group_norm
        # node -> (load, index expressions) of a view read through index arithmetic
        self.index_views: dict[str, tuple[Value, list[str]]] = {}
        self.uses_indices = False  # a formula reads i<d>: the kernel needs per-dim indices
        self.rank, self.f_shape, self.reduced = space.rank, space.f_shape, space.reduced

    # ---- values --------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}_{self.counter}"

    def level(self, dims: tuple[int | None, ...], operands: list[Any]) -> str:
        if any(d in self.reduced for d in dims if d is not None):
            return FULL
        if any(isinstance(o, Value) and o.level == FULL for o in operands):
            return FULL
        return ROW

    def _broadcast(self, shape: tuple[Any, ...], operands: list[Any]) -> tuple[int | None, ...]:
        """Torch broadcasting (right-aligned) of the operands' F dims onto shape."""
        rank = len(shape)
        dims: list[int | None] = [None] * rank
        for o in operands:
            if not isinstance(o, Value):
                continue
            offset = rank - len(o.dims)
            if offset < 0:
                raise CannotLower("broadcast")
            for i, d in enumerate(o.dims):
                if d is None:
                    continue
                if dims[offset + i] not in (None, d):
                    raise CannotLower("broadcast")
                dims[offset + i] = d
        return tuple(None if is_one(s) else d for s, d in zip(shape, dims, strict=True))

    def make(
        self,
        name: str,
        shape: tuple[Any, ...],
        dtype: torch.dtype,
        formula: Formula,
        operands: list[Any],
        options: dict[str, Any] | None = None,
    ) -> Value:
        """A pointwise value of the given torch shape."""
        regrouped = any(isinstance(o, Value) and o.regrouped for o in operands)
        if regrouped and len(shape) != self.rank:
            # an epilogue on a group norm's output: only values of the group space mix in
            others = [o for o in operands if isinstance(o, Value) and not o.regrouped]
            if any(d is not None for o in others for d in o.dims):
                raise CannotLower("broadcast")
            shape = self.f_shape
        dims = self._broadcast(shape, operands)
        flipped = flips.common_flip(operands)
        operands = [flips.flipped_to(self, o, flipped) for o in operands]
        options = {k: flips.flipped_to(self, o, flipped) for k, o in (options or {}).items()}
        return Value(
            name=name,
            kind="pw",
            level=self.level(dims, operands),
            dims=dims,
            dtype=dtype,
            formula=formula,
            operands=operands,
            options=options,
            regrouped=regrouped,
            flipped=flipped,
        )

    def reduce(self, x: Value, red_op: str, keepdim: bool, name: str) -> Value:
        """A reduction of a full value over all reduced dims."""
        if red_op in ("argmax", "argmin") and 1 < len(self.reduced) < self.rank:
            raise Unsupported([f"aten.{red_op}"], f"{red_op} over several dims; " + LLM_HINT)
        if _depends_on_scan(x) or x.level != FULL:
            raise CannotLower(red_op)
        x = flips.unflipped(self, x)
        if keepdim:
            dims = tuple(None if d in self.reduced else d for d in x.dims)
        else:
            dims = tuple(d for d in x.dims if d not in self.reduced)
        dtype = torch.int64 if red_op in ("argmax", "argmin") else x.dtype
        value = Value(name, "red", ROW, dims, dtype, operands=[x], red_op=red_op)
        self.reductions.append(value)
        return value

    def row_shape(self, keepdim: bool) -> tuple[Any, ...]:
        if keepdim:
            return tuple(1 if d in self.reduced else s for d, s in enumerate(self.f_shape))
        return tuple(s for d, s in enumerate(self.f_shape) if d not in self.reduced)

    def scalar(self, name: str, host: str) -> str:
        self.scalars.setdefault(name, host)
        return name

    def count(self) -> str:
        """The number of reduced elements per row (kernel argument R)."""
        return self.scalar("R", "R")

    def operand(self, node: FxNode, arg: Any, index: int) -> Any:
        """A formula operand: a Value, a scalar kernel argument, or a literal."""
        if isinstance(arg, FxNode):
            value = self.values[arg.name]
            if isinstance(value, HostScalar):
                return self.scalar(value.name, value.host)
            if isinstance(value, NotLowered):
                raise CannotLower(value.op)
            if isinstance(value, Value) and value.pending:
                raise CannotLower("view")
            return value
        binding = self.traced.scalar_bindings.get((node.name, index))
        if binding is not None:
            return self.scalar(binding, f"self.{binding}")
        if isinstance(arg, float):
            return Num(arg)
        return arg

    # ---- loads ---------------------------------------------------------------------------
    def channel_load(self, arg: Any) -> Value | None:
        """A per-channel tensor ([C]) read along dim 1 of F (batch norm parameters)."""
        if arg is None:
            return None
        base = self.values[arg.name]
        if not isinstance(base, Value) or base.kind != "load":
            raise CannotLower("batch_norm")
        dims = tuple(1 if i == 1 else None for i in range(self.rank))
        return self.indexed_load(base, dims, ("i1",))

    def indexed_load(
        self,
        base: Value,
        dims: tuple[int | None, ...],
        index: tuple[str, ...],
        regrouped: bool = False,
    ) -> Value:
        """A fresh load of `base`'s tensor walking `dims` of F, addressed by `index`."""
        return Value(
            self.fresh(base.name),
            "load",
            self.level(dims, []),
            dims,
            base.dtype,
            source=base.source,
            index=index,
            regrouped=regrouped,
        )

    def align(self, shape: tuple[Any, ...]) -> tuple[int | None, ...] | None:
        """Dims of a shape right-aligned to F, or None when the sizes do not line up."""
        offset = self.rank - len(shape)
        if offset < 0:
            return None
        dims: list[int | None] = []
        for i, size in enumerate(shape):
            if is_one(size):
                dims.append(None)
            elif str(size) == str(self.f_shape[offset + i]):
                dims.append(offset + i)
            else:
                return None
        return tuple(dims)

    # ---- sizes ---------------------------------------------------------------------------
    def size_scalar(self, size: Any) -> Any:
        """A size in the kernel: a literal, F's n<d>, a host scalar, or NotLowered."""
        if isinstance(size, int):
            return size
        for d, s in enumerate(self.f_shape):
            if str(s) == str(size):
                return f"n{d}"
        host = self.traced.symbols.get(str(size)) or size_expression(self.traced, size)
        if host is None:
            return NotLowered("sym_size")
        return HostScalar("size_" + re.sub(r"\W+", "_", str(size)).strip("_"), host)

    def size_text(self, size: Any) -> str | None:
        """A size as kernel source: a literal or a kernel argument; None if neither."""
        if isinstance(size, int):
            return str(size)
        name = self.size_scalar(size)
        if isinstance(name, HostScalar):
            return self.scalar(name.name, name.host)
        return name if isinstance(name, str) else None

    def host_size(self, size: Any) -> str:
        return host_size(self.traced, size)
