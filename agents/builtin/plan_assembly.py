"""The walk's state assembled into the kernel `Plan`: its outputs (written in F's order,
reversed, regrouped back, or in the product's shape and viewed on the host), its sizes and
scalars, and whether the kernel may walk memory flat.
"""

from __future__ import annotations

from typing import Any

from torch.fx import Node as FxNode

from agents.builtin.errors import LLM_HINT
from agents.builtin.fx_nodes import is_one, shape_of
from agents.builtin.iteration_space import output_nodes
from agents.builtin.loads import group_channel
from agents.builtin.lowering_state import LoweringState
from agents.builtin.pool_windows import POOLS
from agents.builtin.values import NotLowered, Output, Plan, Value, identity_of
from agents.types import Unsupported


def reachable_loads(roots: list[Value]) -> list[Value]:
    """The loads the roots' computations read."""
    seen: dict[int, Value] = {}
    stack: list[Any] = list(roots)
    while stack:
        v = stack.pop()
        if isinstance(v, Value) and id(v) not in seen:
            seen[id(v)] = v
            stack.extend(v.operands)
            stack.extend(v.options.values())
    return [v for v in seen.values() if v.kind == "load"]


def _output(st: LoweringState, node: Any, name: str) -> Output:
    if isinstance(node, FxNode) and isinstance(st.values[node.name], NotLowered):
        op = f"aten.{st.values[node.name].op}"  # e.g. a pooling's indices
        raise Unsupported([op], f"the builtin agent cannot lower {op}; " + LLM_HINT)
    if not isinstance(node, FxNode) or not isinstance(st.values[node.name], Value):
        raise Unsupported(["<output>"], "forward returns a non-tensor; " + LLM_HINT)
    value = st.values[node.name]
    if value.kind == "load":
        value = identity_of(value, node.name + "_copy")
    val = node.meta["val"]
    if node.name in st.returned_views:  # written in the product's shape, then viewed
        shape = [st.host_size(s) for s in st.f_shape]
        returned = name + st.returned_views[node.name]
        return Output(value, name, shape, val.dtype, returned=returned)
    if value.regrouped and st.group_norm is not None:
        shape = [st.host_size(s) for s in shape_of(st.group_norm[1])]
        index = ("i0", group_channel(st), *(f"i{d}" for d in range(3, st.rank)))
        return Output(value, name, shape, val.dtype, index=index)
    shape = [st.host_size(s) for s in val.shape]
    if len(value.dims) != val.dim() or any(
        d is None and not is_one(s) for d, s in zip(value.dims, val.shape, strict=True)
    ):
        raise Unsupported(["<output>"], "an output that broadcasts a value; " + LLM_HINT)
    if value.flipped:
        index = tuple(
            "0" if d is None else f"(n{d} - 1 - i{d})" if d in value.flipped else f"i{d}"
            for d in value.dims
        )
        return Output(value, name, shape, val.dtype, index=index)
    return Output(value, name, shape, val.dtype)


def _walks_f(st: LoweringState, v: Value) -> bool:
    """Whether a load reads its source exactly in F's order (no broadcast, no permute)."""
    full = tuple(range(st.rank))
    return v.dims == full and v.index is None and st.sources[v.source].rank == st.rank


def assemble_plan(st: LoweringState) -> Plan:
    """The plan of a walked graph (raises Unsupported for an output it cannot write)."""
    outs = output_nodes(st.gm)
    names = ["out"] if len(outs) == 1 else [f"out{i}" for i in range(len(outs))]
    outputs = [_output(st, node, name) for node, name in zip(outs, names, strict=True)]
    f_sizes = [st.host_size(s) for s in st.f_shape]
    if st.reduced:
        st.scalars["R"] = " * ".join(f_sizes[d] for d in st.reduced)
    flat = (
        not st.reduced
        and not st.uses_indices
        and st.dot is None
        and st.conv is None
        and all(_walks_f(st, v) for v in reachable_loads([o.value for o in outputs]))
        and all(o.value.dims == tuple(range(st.rank)) and o.index is None for o in outputs)
    )
    if st.dot is not None:
        st.scalars["K"] = st.dot.k_size
    family = "matmul" if st.dot else "reduction" if st.reduced else "pointwise"
    family = "conv" if st.conv else family
    return Plan(
        family=family,
        rank=st.rank,
        f_sizes=f_sizes,
        reduced=st.reduced,
        sources=list(st.sources.values()),
        scalars=list(st.scalars.items()),
        outputs=outputs,
        fused=st.fused,
        reductions=st.reductions,
        flat=flat,
        dot=st.dot,
        conv=st.conv,
        has_cumprod=st.has_cumprod,
        row_tiles=family == "pointwise"
        and not flat
        and st.rank > 1
        and any(op in POOLS for op in st.fused),
    )
