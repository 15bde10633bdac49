"""Instruments the worker process while a candidate runs.

- ``KernelLaunches``: counts Triton kernel launches, or turns them into no-ops (the
  "ghost" run), by wrapping the launch method of Triton's kernel classes.
- ``TorchOpRecorder``: records the torch ops forward runs outside any kernel launch, and
  reads of tensor data into the host (``.numpy()``, ``np.asarray``, ``.item()``,
  ``.tolist()``, ``.cpu()``): compute on the host cannot hide behind a kernel launch.
- ``poisoned_allocations``: fresh ``torch.empty*`` memory is filled with NaN (floats) or a
  sentinel (integers), and on CUDA the caching allocator is pre-filled with NaN, so output
  memory the candidate never writes shows up as a mismatch. The ``ALTERNATE`` poison (a
  large finite value, the integer maximum) gives a second run different garbage: an
  output that depends on it reads memory it never wrote.

These patch our own worker process only; the candidate cannot undo them (static checks
forbid monkey-patching).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

ALLOWED_ATEN_OPS = {
    "empty",
    "empty_like",
    "empty_strided",
    "new_empty",
    "new_empty_strided",
    "new_zeros",
    "new_ones",
    "new_full",
    "zeros",
    "zeros_like",
    "ones",
    "ones_like",
    "full",
    "full_like",
    "zero_",
    "fill_",
    "arange",
    "view",
    "_unsafe_view",
    "reshape",
    "_reshape_alias",
    "permute",
    "transpose",
    "t",
    "expand",
    "squeeze",
    "unsqueeze",
    "flatten",
    "unflatten",
    "select",
    "slice",
    "narrow",
    "as_strided",
    "alias",
    "detach",
    "clone",
    "contiguous",
    "_to_copy",
    "copy_",
    "split",
    "split_with_sizes",
    "chunk",
    "unbind",
    "lift_fresh",
    "view_as",
    "expand_as",
    "sym_size",
    "sym_stride",
    "sym_numel",
    "sym_storage_offset",
    "is_same_size",
    "_local_scalar_dense",
    "resize_",
    "set_",
    "empty_permuted",
}


def _kernel_classes() -> list[type]:
    classes: list[type] = []
    from triton.runtime.jit import JITFunction

    classes.append(JITFunction)
    with contextlib.suppress(ImportError):
        from triton.runtime.interpreter import InterpretedFunction

        classes.append(InterpretedFunction)
    return classes


class KernelLaunches:
    """Context manager: counts launches; with ``ghost=True`` launches do nothing."""

    paused_recorders = 0

    def __init__(self, ghost: bool = False) -> None:
        self.ghost = ghost
        self.count = 0
        self._saved: list[tuple[type, Any]] = []

    def __enter__(self) -> KernelLaunches:
        for cls in _kernel_classes():
            original = cls.__dict__["run"]
            self._saved.append((cls, original))
            cls.run = self._wrap(original)  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        for cls, original in reversed(self._saved):
            cls.run = original  # type: ignore[method-assign]
        self._saved.clear()

    def _wrap(self, original: Any) -> Any:
        launches = self

        def run(kernel: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("warmup"):
                return original(kernel, *args, **kwargs)
            launches.count += 1
            grid = kwargs.get("grid")
            if callable(grid):
                kwargs["grid"] = _grid_outside_the_launch(grid)
            if launches.ghost:
                _call_grid(kernel, grid, args, kwargs)
                return None
            KernelLaunches.paused_recorders += 1
            try:
                return original(kernel, *args, **kwargs)
            finally:
                KernelLaunches.paused_recorders -= 1

        return run


def _grid_outside_the_launch(grid: Any) -> Any:
    """``grid`` with the recorders watching: it is candidate code, run inside the launch."""

    def recorded(meta: Any) -> Any:
        paused, KernelLaunches.paused_recorders = KernelLaunches.paused_recorders, 0
        try:
            return grid(meta)
        finally:
            KernelLaunches.paused_recorders = paused

    return recorded


def _call_grid(kernel: Any, grid: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """In the ghost run, a callable grid still runs (host work hidden in it shows up)."""
    if not callable(grid):
        return
    names = getattr(kernel, "arg_names", None) or getattr(
        getattr(kernel, "fn", None), "arg_names", []
    )
    meta = {**dict(zip(names, args, strict=False)), **kwargs}
    with contextlib.suppress(Exception):  # a grid that needs the real launch's meta
        grid(meta)


# Tensor methods that bring a tensor's data to the host (for compute in Python or NumPy).
HOST_READS = {
    "__array__",
    "numpy",
    "tolist",
    "item",
    "cpu",
    "__float__",
    "__int__",
    "__index__",
    "__bool__",
}


class _OpRecorder(TorchDispatchMode):
    """Aten ops run outside kernel launches that are not allocation or views."""

    def __init__(self, forbidden: list[str]) -> None:
        super().__init__()
        self.forbidden = forbidden

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if KernelLaunches.paused_recorders == 0:
            name = func._schema.name.split("::")[-1]
            if _device_to_host(name, args, kwargs or {}):
                name = f"{name} (device to host)"
            elif name in ALLOWED_ATEN_OPS:
                name = ""
            if name and name not in self.forbidden:
                self.forbidden.append(name)
        return func(*args, **(kwargs or {}))


def _on_device(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.device.type != "cpu"


def _device_to_host(name: str, args: Any, kwargs: dict[str, Any]) -> bool:
    """A copy of device memory to the host (``.cpu()``, ``.item()``, ``.tolist()``...)."""
    if name == "_local_scalar_dense":
        return _on_device(args[0])
    if name == "_to_copy":
        target = kwargs.get("device")
        return _on_device(args[0]) and target is not None and torch.device(target).type == "cpu"
    if name == "copy_":
        return not _on_device(args[0]) and _on_device(args[1])
    return False


class _HostReadRecorder(TorchFunctionMode):
    """Tensor data read into the host outside kernel launches (NumPy, ``.item()``...)."""

    def __init__(self, forbidden: list[str]) -> None:
        super().__init__()
        self.forbidden = forbidden

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if KernelLaunches.paused_recorders == 0:
            name = getattr(func, "__name__", "")
            if name in HOST_READS and f".{name}()" not in self.forbidden:
                self.forbidden.append(f".{name}()")
        return func(*args, **(kwargs or {}))


class TorchOpRecorder:
    """Context manager: ``forbidden`` lists the torch ops and host reads seen outside
    kernel launches, in the order first seen.

    ``host_reads=False`` leaves out the tensor-method hook, which costs tens of
    microseconds a call (Triton's launcher calls tensor methods too): on a GPU, reading
    device data into the host is a device-to-host copy, which the op hook sees anyway.
    """

    def __init__(self, host_reads: bool = True) -> None:
        self.forbidden: list[str] = []
        ops = _OpRecorder(self.forbidden)
        self._modes = (_HostReadRecorder(self.forbidden), ops) if host_reads else (ops,)

    def __enter__(self) -> TorchOpRecorder:
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for mode in reversed(self._modes):
            mode.__exit__(*exc)


NAN = "nan"
ALTERNATE = "alternate"
ALTERNATE_FLOAT = 1.0e4  # finite in every float dtype, far from typical outputs


def _poison_fill(tensor: torch.Tensor, kind: str) -> torch.Tensor:
    if tensor.is_floating_point() or tensor.is_complex():
        tensor.fill_(float("nan") if kind == NAN else ALTERNATE_FLOAT)
    elif tensor.dtype == torch.bool:
        if kind == ALTERNATE:
            tensor.fill_(True)
    elif tensor.numel():
        info = torch.iinfo(tensor.dtype)
        tensor.fill_(info.min if kind == NAN else info.max)
    return tensor


@contextlib.contextmanager
def poisoned_allocations(device: str, nbytes: int, kind: str = NAN) -> Iterator[None]:
    """Fresh allocations made inside come back filled with poison (``NAN`` or
    ``ALTERNATE``), not zeros."""
    if device.startswith("cuda"):
        # Blocks freed here stay in the caching allocator; later allocations reuse them.
        fill = float("nan") if kind == NAN else ALTERNATE_FLOAT
        big = torch.empty(max(nbytes * 4, 64 << 20), dtype=torch.uint8, device=device)
        big.view(torch.float32)[: big.numel() // 4].fill_(fill)
        smalls = [torch.full((1 << 18,), fill, device=device) for _ in range(8)]
        del big, smalls
    originals = {
        "empty": torch.empty,
        "empty_like": torch.empty_like,
        "empty_strided": torch.empty_strided,
    }
    new_empty = torch.Tensor.new_empty

    def wrap(fn: Any) -> Any:
        def poisoned(*args: Any, **kwargs: Any) -> Any:
            return _poison_fill(fn(*args, **kwargs), kind)

        return poisoned

    for name, fn in originals.items():
        setattr(torch, name, wrap(fn))
    torch.Tensor.new_empty = wrap(new_empty)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(torch, name, fn)
        torch.Tensor.new_empty = new_empty  # type: ignore[method-assign]
