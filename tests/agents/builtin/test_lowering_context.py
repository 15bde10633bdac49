"""The op lowerings read and build through `LoweringContext` only, and the walk's state
(`LoweringState`) has every member the protocol names."""

from __future__ import annotations

import ast
import importlib
import inspect
import types

from agents.builtin import composites
from agents.builtin.iteration_space import iteration_space
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.lowering_state import LoweringState
from agents.builtin.reference import trace_reference
from tests.agents.builtin.builtin_harness import task

OP_LOWERINGS = tuple(
    importlib.import_module(f"agents.builtin.{name}")
    for name in (
        "adaptive_pooling",
        "composites",
        "conv_lowering",
        "flips",
        "gather",
        "matmul_views",
        "pooling",
        "view_lowering",
    )
)


def protocol_members() -> set[str]:
    declared = {name for name in vars(LoweringContext) if not name.startswith("_")}
    return declared | set(LoweringContext.__annotations__)


def attributes_read_through_the_context(module: types.ModuleType) -> set[str]:
    """`ctx.<name>` for every parameter `ctx: LoweringContext` of the module's functions."""
    read: set[str] = set()
    for function in ast.walk(ast.parse(inspect.getsource(module))):
        if not isinstance(function, ast.FunctionDef):
            continue
        contexts = {
            a.arg
            for a in function.args.args
            if isinstance(a.annotation, ast.Name) and a.annotation.id == "LoweringContext"
        }
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in contexts
            ):
                read.add(node.attr)
    return read


def test_op_lowerings_use_only_what_the_protocol_names() -> None:
    members = protocol_members()
    beyond = {
        module.__name__: sorted(attributes_read_through_the_context(module) - members)
        for module in OP_LOWERINGS
    }
    assert not any(beyond.values()), f"reached past LoweringContext: {beyond}"
    assert attributes_read_through_the_context(composites) >= {"make", "reduce", "count"}


def test_the_walk_state_has_every_member_of_the_protocol() -> None:
    traced = trace_reference(task("x.sum(1)"), "torch")
    state = LoweringState(traced, iteration_space(traced))
    assert [name for name in sorted(protocol_members()) if not hasattr(state, name)] == []
    assert state.reduced == (1,) and state.rank == 2
