"""Exclusive scans written as a cat in front of a cumsum, turned into one scan.

KernelBench's exclusive cumsum is `cat((zeros, cumsum(x.narrow(d, 0, n - 1), d)), d)`.
Lowered as written, the cat reads the scan at a shifted index, so the scan writes a buffer
and a second kernel copies it behind the zeros: three passes over memory. The same values
are `cumsum(cat((zeros, x.narrow(d, 0, n - 1)), d), d)` (the scan of leading zeros is
zeros, and the carry into the rest is exactly 0), which one scan kernel takes: its loads
read the cat's pieces at shifted indices, and it writes the result once.
"""

from __future__ import annotations

import torch
from torch.fx import Graph
from torch.fx import Node as FxNode

from agents.builtin.fx_nodes import packet
from agents.builtin.graph_rewrites import rewritten
from agents.builtin.reference import Traced

aten = torch.ops.aten

ZEROS = {"zeros", "zeros_like", "new_zeros"}


def _dim(node: FxNode, position: int, rank: int) -> int | None:
    """The node's dim argument (at args[position] or kwargs['dim']), made non-negative."""
    dim = node.args[position] if len(node.args) > position else node.kwargs.get("dim", 0)
    return dim % rank if isinstance(dim, int) else None


def _scan_behind_zeros(cat: FxNode) -> tuple[FxNode, FxNode, int] | None:
    """(zeros, the scan's input, dim) of `cat((zeros, cumsum(y, dim)), dim)` where the
    scan is read only there and keeps its input's floating dtype; None otherwise."""
    pieces = cat.args[0]
    value = cat.meta.get("val")
    if not isinstance(pieces, (list, tuple)) or len(pieces) != 2:
        return None
    if not isinstance(value, torch.Tensor) or not value.dtype.is_floating_point:
        return None
    zeros, scan = pieces
    if not isinstance(zeros, FxNode) or not isinstance(scan, FxNode):
        return None
    if zeros.op != "call_function" or packet(zeros) not in ZEROS:
        return None
    if scan.op != "call_function" or packet(scan) != "cumsum" or len(scan.users) != 1:
        return None
    x = scan.args[0]
    if not isinstance(x, FxNode) or scan.kwargs.get("dtype") is not None:
        return None
    dim = _dim(cat, 1, value.dim())
    same_dtype = zeros.meta["val"].dtype == x.meta["val"].dtype == value.dtype
    if dim is None or dim != _dim(scan, 1, value.dim()) or not same_dtype:
        return None
    return zeros, x, dim


def with_exclusive_scans_fused(traced: Traced) -> Traced:
    """The graph with each `cat((zeros, cumsum(y, d)), d)` as `cumsum(cat((zeros, y), d), d)`."""
    return rewritten(traced, _fuse_exclusive_scans)


def _fuse_exclusive_scans(graph: Graph) -> bool:
    changed = False
    for node in list(graph.nodes):
        if node.op != "call_function" or packet(node) != "cat":
            continue
        found = _scan_behind_zeros(node)
        if found is None:
            continue
        zeros, x, dim = found
        with graph.inserting_before(node):
            padded = graph.call_function(aten.cat.default, ([zeros, x], dim))
            scan = graph.call_function(aten.cumsum.default, (padded, dim))
        padded.meta = dict(node.meta)  # same shape and dtype as the cat it replaces
        scan.meta = dict(node.meta)
        node.replace_all_uses_with(scan)
        graph.erase_node(node)
        changed = True
    return changed
