"""Lower a traced aten graph into one fused kernel plan.

The walk visits the fx graph once: the iteration space F comes first (iteration_space.py),
then every node becomes a `Value` in F (values.py) through the op table (op_table.py),
built on the walk's state (lowering_state.py); ops that have no lowering are collected and
reported together, and the state is assembled into the `Plan` (plan_assembly.py).
"""

from __future__ import annotations

from agents.builtin.errors import LLM_HINT
from agents.builtin.fx_nodes import packet
from agents.builtin.iteration_space import iteration_space
from agents.builtin.loads import input_load
from agents.builtin.lowering_state import LoweringState
from agents.builtin.op_table import lower_constant, lower_node
from agents.builtin.plan_assembly import assemble_plan
from agents.builtin.reference import Traced
from agents.builtin.values import CannotLower, Plan
from agents.types import Unsupported


def lower(traced: Traced) -> Plan:
    """The fused kernel plan for a traced reference (raises Unsupported naming every op
    it cannot lower)."""
    st = LoweringState(traced, iteration_space(traced))
    unsupported: list[str] = []
    failed: set[str] = set()
    hosts = {p.node_name: p.host for p in traced.placeholders}
    for node in st.gm.graph.nodes:
        if node.op == "placeholder":
            if node.users:
                st.values[node.name] = input_load(st, node, hosts[node.name])
            continue
        if node.op == "get_attr":
            try:
                st.values[node.name] = lower_constant(st, node)
            except CannotLower as exc:
                failed.add(node.name)
                unsupported.append(exc.args[0])
            continue
        if node.op != "call_function":
            continue
        if any(arg.name in failed for arg in node.all_input_nodes):
            failed.add(node.name)  # downstream of an op already reported
            continue
        try:
            st.values[node.name] = lower_node(st, node, packet(node))
        except CannotLower as exc:
            failed.add(node.name)
            what = exc.args[0]
            unsupported.append(what if what.startswith("<") else f"aten.{what}")
    if unsupported:
        ops = sorted(set(unsupported))
        raise Unsupported(ops, f"the builtin agent cannot lower {', '.join(ops)}; " + LLM_HINT)
    return assemble_plan(st)
