"""What an op's lowering may read and build while the graph is walked: `LoweringContext`.

The lowerings of op families (composites.py, gather.py, view_lowering.py, pooling.py,
adaptive_pooling.py, conv_lowering.py, matmul_views.py, flips.py) take the walk's state as
this protocol, so they depend on what they use and not on the module that walks the graph
(lowering_state.py holds the one implementation, lowering.py the walk).
"""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch.fx import Node as FxNode

from agents.builtin.values import Conv, Dot, Formula, Source, Value


class LoweringContext(Protocol):
    """The iteration space, the values built so far, and the calls that build new ones."""

    values: dict[str, Any]  # fx node name -> its Value, HostScalar, NotLowered or tuple
    sources: dict[str, Source]  # the tensors the kernel reads, by kernel name
    index_views: dict[str, tuple[Value, list[str]]]  # node -> (load, index expressions)
    returned_views: dict[str, str]  # a view of the matmul's product -> its host calls
    dot: Dot | None
    conv: Conv | None
    uses_indices: bool  # a formula reads i<d>: the kernel needs per-dim indices

    @property
    def rank(self) -> int: ...

    @property
    def f_shape(self) -> tuple[Any, ...]: ...

    @property
    def reduced(self) -> tuple[int, ...]: ...

    def fresh(self, base: str) -> str:
        """A name no other value of the kernel has."""
        ...

    def level(self, dims: tuple[int | None, ...], operands: list[Any]) -> str:
        """FULL when the value walks a reduced dim (or reads one that does), else ROW."""
        ...

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
        ...

    def reduce(self, x: Value, red_op: str, keepdim: bool, name: str) -> Value:
        """A reduction of a full value over all reduced dims."""
        ...

    def row_shape(self, keepdim: bool) -> tuple[Any, ...]:
        """F's shape with the reduced dims kept as 1 or dropped."""
        ...

    def count(self) -> str:
        """The number of reduced elements per row (kernel argument R)."""
        ...

    def scalar(self, name: str, host: str) -> str:
        """A scalar kernel argument computed on the host."""
        ...

    def operand(self, node: FxNode, arg: Any, index: int) -> Any:
        """A formula operand: a Value, a scalar kernel argument, or a literal."""
        ...

    def channel_load(self, arg: Any) -> Value | None:
        """A per-channel tensor ([C]) read along dim 1 of F."""
        ...

    def indexed_load(
        self,
        base: Value,
        dims: tuple[int | None, ...],
        index: tuple[str, ...],
        regrouped: bool = False,
    ) -> Value:
        """A fresh load of `base`'s tensor walking `dims` of F, addressed by `index`."""
        ...

    def align(self, shape: tuple[Any, ...]) -> tuple[int | None, ...] | None:
        """Dims of a shape right-aligned to F, or None when the sizes do not line up."""
        ...

    def size_text(self, size: Any) -> str | None:
        """A size as kernel source: a literal or a kernel argument; None if neither."""
        ...

    def host_size(self, size: Any) -> str:
        """A size as host source (raises Unsupported when the inputs cannot express it)."""
        ...
