"""Run a NumPy reference's forward on torch tensors so torch can trace it.

Arrays are replaced by `TorchArray`, which answers NumPy's ufunc and array-function
protocols with the matching torch op. Only the NumPy functions that have a one-to-one
torch counterpart are mapped; anything else is reported as unsupported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from agents.builtin.errors import LLM_HINT
from agents.types import Unsupported


def _maximum(a: Any, b: Any) -> Any:
    if not isinstance(b, torch.Tensor):
        return torch.clamp_min(a, b)
    if not isinstance(a, torch.Tensor):
        return torch.clamp_min(b, a)
    return torch.maximum(a, b)


def _minimum(a: Any, b: Any) -> Any:
    if not isinstance(b, torch.Tensor):
        return torch.clamp_max(a, b)
    if not isinstance(a, torch.Tensor):
        return torch.clamp_max(b, a)
    return torch.minimum(a, b)


UFUNCS: dict[str, Callable[..., Any]] = {
    "add": torch.add,
    "subtract": torch.sub,
    "multiply": torch.mul,
    "true_divide": torch.div,
    "divide": torch.div,
    "negative": torch.neg,
    "power": torch.pow,
    "exp": torch.exp,
    "exp2": torch.exp2,
    "expm1": torch.expm1,
    "log": torch.log,
    "log1p": torch.log1p,
    "log2": torch.log2,
    "sqrt": torch.sqrt,
    "square": torch.square,
    "absolute": torch.abs,
    "tanh": torch.tanh,
    "sin": torch.sin,
    "cos": torch.cos,
    "maximum": _maximum,
    "minimum": _minimum,
    "greater": torch.gt,
    "greater_equal": torch.ge,
    "less": torch.lt,
    "less_equal": torch.le,
    "equal": torch.eq,
    "not_equal": torch.ne,
    "reciprocal": torch.reciprocal,
    "sign": torch.sign,
    "floor": torch.floor,
    "ceil": torch.ceil,
}


def _reduce(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: torch.Tensor, axis: Any = None, keepdims: bool = False, **_: Any) -> Any:
        if axis is None:
            return fn(a)
        return fn(a, dim=axis, keepdim=keepdims)

    return call


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sum": _reduce(torch.sum),
    "mean": _reduce(torch.mean),
    "max": _reduce(torch.amax),
    "amax": _reduce(torch.amax),
    "min": _reduce(torch.amin),
    "amin": _reduce(torch.amin),
    "prod": _reduce(torch.prod),
    "where": torch.where,
    "clip": lambda a, lo=None, hi=None, **_: torch.clamp(a, lo, hi),
    "exp": torch.exp,
    "tanh": torch.tanh,
}


def _unsupported(name: str) -> Unsupported:
    return Unsupported([name], f"the builtin agent cannot lower {name}; " + LLM_HINT)


def _unwrap(value: Any) -> Any:
    if isinstance(value, TorchArray):
        return value.tensor
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _wrap(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return TorchArray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_wrap(v) for v in value)
    return value


class TorchArray:
    """A torch tensor that NumPy functions and operators dispatch to torch."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor.shape)

    @property
    def ndim(self) -> int:
        return self.tensor.dim()

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = UFUNCS.get(ufunc.__name__)
        if method != "__call__" or fn is None or kwargs:
            raise _unsupported(f"numpy.{ufunc.__name__}")
        return _wrap(fn(*_unwrap(inputs)))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        fn = FUNCTIONS.get(func.__name__)
        if fn is None:
            raise _unsupported(f"numpy.{func.__name__}")
        return _wrap(fn(*_unwrap(args), **_unwrap(kwargs)))

    def _binary(self, other: Any, fn: Callable[..., Any], reverse: bool = False) -> Any:
        a, b = (_unwrap(other), self.tensor) if reverse else (self.tensor, _unwrap(other))
        return _wrap(fn(a, b))

    def __add__(self, o: Any) -> Any:
        return self._binary(o, torch.add)

    def __radd__(self, o: Any) -> Any:
        return self._binary(o, torch.add, True)

    def __sub__(self, o: Any) -> Any:
        return self._binary(o, torch.sub)

    def __rsub__(self, o: Any) -> Any:
        return self._binary(o, torch.sub, True)

    def __mul__(self, o: Any) -> Any:
        return self._binary(o, torch.mul)

    def __rmul__(self, o: Any) -> Any:
        return self._binary(o, torch.mul, True)

    def __truediv__(self, o: Any) -> Any:
        return self._binary(o, torch.div)

    def __rtruediv__(self, o: Any) -> Any:
        return self._binary(o, torch.div, True)

    def __pow__(self, o: Any) -> Any:
        return self._binary(o, torch.pow)

    def __gt__(self, o: Any) -> Any:
        return self._binary(o, torch.gt)

    def __lt__(self, o: Any) -> Any:
        return self._binary(o, torch.lt)

    def __ge__(self, o: Any) -> Any:
        return self._binary(o, torch.ge)

    def __le__(self, o: Any) -> Any:
        return self._binary(o, torch.le)

    def __neg__(self) -> Any:
        return _wrap(-self.tensor)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _wrap(FUNCTIONS["sum"](self.tensor, axis, keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _wrap(FUNCTIONS["mean"](self.tensor, axis, keepdims))

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _wrap(FUNCTIONS["max"](self.tensor, axis, keepdims))

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _wrap(FUNCTIONS["min"](self.tensor, axis, keepdims))

    def astype(self, dtype: Any) -> Any:
        return _wrap(self.tensor.to(torch.from_numpy(np.zeros(0, dtype=dtype)).dtype))


def numpy_forward(model: Any, args: Sequence[Any]) -> Any:
    """Call a NumPy model's forward with torch tensors standing in for arrays."""
    return _unwrap(model.forward(*_wrap(tuple(args))))


def to_meta(value: Any) -> Any:
    """A meta tensor with a NumPy array's shape and dtype (other values pass through)."""
    if isinstance(value, np.ndarray):
        dtype = torch.from_numpy(np.zeros(0, dtype=value.dtype)).dtype
        return torch.empty(value.shape, dtype=dtype, device="meta")
    return value
