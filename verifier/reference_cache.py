"""Reference outputs kept in the warm worker, so every candidate of a task reuses them.

A reference's output depends only on the reference source, the framework, the device, the
shapes choice (small or default), the seed the model was built under and the trial's
inputs. The key is all of that, the inputs given by their seed and their fingerprint
(shape, dtype, float64 sum and 2-norm per tensor, repr of other values), so two
input sets drawn under one seed at different shapes never share an entry.

Entries stay where the reference put them (on the GPU for a CUDA task); the cache holds
at most ``capacity_bytes`` (environment ``AIKG_VERIFY_REFERENCE_CACHE_BYTES``, default
4 GiB), dropping the least recently used, and keeps no output larger than the whole
budget. Each entry's own fingerprint is checked on every hit, so an entry a candidate
managed to overwrite in memory is recomputed instead of trusted.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from verifier.compare import flat_chunks, flatten_outputs, to_torch

CACHE_BYTES_ENV = "AIKG_VERIFY_REFERENCE_CACHE_BYTES"
DEFAULT_CACHE_BYTES = 4 << 30


@dataclass(frozen=True)
class ReferenceKey:
    """Which reference an output belongs to (each lookup adds the inputs' seed and print)."""

    reference_digest: str
    framework: str
    device: str
    small_shapes: bool
    model_seed: int

    @classmethod
    def of(
        cls, reference_source: str, framework: str, device: str, small: bool, model_seed: int
    ) -> ReferenceKey:
        digest = hashlib.sha256(reference_source.encode()).hexdigest()
        return cls(digest, framework, device, small, model_seed)


EntryKey = tuple[ReferenceKey, int, tuple[Any, ...]]


def _tensors(value: Any) -> list[torch.Tensor]:
    leaves = [to_torch(v) for v in flatten_outputs(value)]
    return [t for t in leaves if isinstance(t, torch.Tensor)]


def _nbytes(value: Any) -> int:
    return sum(t.numel() * t.element_size() for t in _tensors(value))


def _sums(t: torch.Tensor) -> tuple[str, str]:
    """Sum and 2-norm (integers: sum and maximum) in float64, as reprs (so NaN equals NaN).
    Chunk by chunk: a reduction given ``dtype=torch.float64`` widens its whole input first
    on the CPU, two more copies' worth of memory for a float32 input."""
    if t.numel() == 0:
        return ("0", "0")
    chunks = flat_chunks(t)
    total = sum(float(torch.sum(c, dtype=torch.float64)) for c in chunks)
    if t.is_floating_point():
        squares = sum(float(torch.linalg.vector_norm(c, dtype=torch.float64)) ** 2 for c in chunks)
        spread = squares**0.5
    else:
        spread = float(max(c.max() for c in chunks))
    return (repr(total), repr(spread))


def fingerprint(value: Any) -> tuple[Any, ...] | None:
    """Shape, dtype and ``_sums`` per tensor, repr of anything else; None where a tensor
    cannot be summed (complex, say): then nothing is cached."""
    prints: list[Any] = []
    for leaf in flatten_outputs(value):
        t = to_torch(leaf)
        if not isinstance(t, torch.Tensor):
            prints.append(repr(leaf))
            continue
        try:
            prints.append((tuple(t.shape), str(t.dtype), *_sums(t.detach())))
        except (RuntimeError, TypeError):
            return None
    return tuple(prints)


class ReferenceCache:
    """A bytes-bounded LRU of reference outputs."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self._entries: OrderedDict[EntryKey, tuple[Any, int, tuple[Any, ...]]] = OrderedDict()
        self.bytes_held = 0
        self.hits = 0
        self.misses = 0

    def get_or_compute(
        self, key: ReferenceKey, seed: int, inputs: list[Any], compute: Callable[[], Any]
    ) -> Any:
        """The output kept for these inputs, else ``compute()`` (kept if it fits)."""
        inputs_print = fingerprint(inputs)
        if inputs_print is None:
            return compute()
        entry_key = (key, seed, inputs_print)
        entry = self._entries.get(entry_key)
        if entry is not None:
            output, _, output_print = entry
            if fingerprint(output) == output_print:
                self._entries.move_to_end(entry_key)
                self.hits += 1
                return output
            self._drop(entry_key)  # overwritten in memory since it was kept: recompute
        self.misses += 1
        output = compute()
        self._keep(entry_key, output)
        return output

    def _keep(self, entry_key: EntryKey, output: Any) -> None:
        size = _nbytes(output)
        output_print = fingerprint(output)
        if size > self.capacity_bytes or output_print is None:
            return
        while self._entries and self.bytes_held + size > self.capacity_bytes:
            self._drop(next(iter(self._entries)))
        self._entries[entry_key] = (output, size, output_print)
        self.bytes_held += size

    def _drop(self, entry_key: EntryKey) -> None:
        _, size, _ = self._entries.pop(entry_key)
        self.bytes_held -= size

    def __len__(self) -> int:
        return len(self._entries)


_worker_cache: ReferenceCache | None = None
_active: contextvars.ContextVar[tuple[ReferenceCache, ReferenceKey] | None] = (
    contextvars.ContextVar("aikg_reference_cache", default=None)
)


def worker_cache() -> ReferenceCache:
    """This process's cache, sized from the environment on first use."""
    global _worker_cache
    if _worker_cache is None:
        capacity = int(os.environ.get(CACHE_BYTES_ENV, DEFAULT_CACHE_BYTES))
        _worker_cache = ReferenceCache(capacity)
    return _worker_cache


@contextlib.contextmanager
def reference_scope(cache: ReferenceCache, key: ReferenceKey) -> Iterator[None]:
    """Reference runs inside the block go through ``cache`` under ``key``."""
    token = _active.set((cache, key))
    try:
        yield
    finally:
        _active.reset(token)


def cached_reference(seed: int | None, inputs: list[Any], compute: Callable[[], Any]) -> Any:
    """``compute()``, or the output kept for these inputs in the active scope."""
    active = _active.get()
    if active is None or seed is None:
        return compute()
    cache, key = active
    return cache.get_or_compute(key, seed, inputs, compute)
