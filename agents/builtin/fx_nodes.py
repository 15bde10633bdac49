"""Reading torch.fx nodes of a traced aten graph: op names, shapes, sizes, permutations."""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch.fx import Node as FxNode


def packet(node: FxNode) -> str:
    """The op's name without overload or in-place suffix: aten.add_.Tensor -> add."""
    if node.target is operator.getitem:
        return "getitem"
    name = getattr(node.target, "__name__", str(node.target)).split(".")[0]
    return name if name.startswith("_") else name.rstrip("_")


def shape_of(node: FxNode) -> tuple[Any, ...]:
    return tuple(node.meta["val"].shape)


def is_one(size: Any) -> bool:
    return isinstance(size, int) and size == 1


def permutation(node: FxNode, op: str, rank: int) -> list[int]:
    """The dims a permute, transpose or t takes, in order."""
    if op == "t":
        return list(reversed(range(rank)))
    if op == "transpose":
        perm = list(range(rank))
        i, j = (d % rank for d in node.args[1:3])
        perm[i], perm[j] = perm[j], perm[i]
        return perm
    return [d % rank for d in node.args[1]]


def traced_size(size: Any) -> Any:
    """A symbolic size's value at the traced inputs."""
    return size.node.hint if isinstance(size, torch.SymInt) and size.node.has_hint() else size
