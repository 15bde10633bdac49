"""The search's pure parts: the tree folded from events, the rounds beam and evolve plan,
and the speed-of-light figures (docs/search.md)."""

from __future__ import annotations

from typing import Any

from machine import events as ev
from machine.search.directions import REPAIR, Directions, listed_directions
from machine.search.stopping import stop_reason
from machine.search.strategies import nearest_untried, plan_round
from machine.search.tree import Node, candidate_rows, search_tree
from machine.speed_of_light import share_of_light, speed_of_light
from machine.state import TaskState, fold
from tests.machine.samples import SAMPLES

CONFIGS = [{"BLOCK": b} for b in (1024, 2048, 512, 4096, 256, 8192)]


def _timed(ms: float) -> dict[str, Any]:
    return {
        "passed": True,
        "stage": None,
        "message": "",
        "timings": {"candidate": {"median_ms": ms}},
    }


def _failed(stage: str) -> dict[str, Any]:
    return {"passed": False, "stage": stage, "message": f"{stage} went wrong"}


def _state(nodes: list[tuple[int, str | None, dict[str, Any] | None, bool]]) -> TaskState:
    """(step, parent id, verify result or None while in flight, lists alternatives)."""
    events: list[ev.Event] = [SAMPLES["task.created"]]
    for step, parent, result, alternatives in nodes:
        config = CONFIGS[(step - 1) % len(CONFIGS)]
        notes = {"launch_config": config, **({"alternatives": CONFIGS} if alternatives else {})}
        events += [
            ev.NodeCreated(step, f"n{step}", [parent] if parent else [], "agent", "idea"),
            ev.StepStarted(step, "code", "idea"),
            ev.CodeProduced(step, f"code {step}", "agent", notes),
        ]
        if result is not None:
            events.append(ev.VerifyFinished(step, "cpu", result))
    return fold(enumerate(events, start=1))


def _parents(plans: list[Any]) -> list[str | None]:
    return [p.parent.node_id if p.parent else None for p in plans]


def test_a_linear_log_reads_as_a_chain() -> None:
    events: list[ev.Event] = [SAMPLES["task.created"]]
    for step in (1, 2, 3):
        events += [
            ev.StepStarted(step, "code", "r"),
            ev.CodeProduced(step, f"c{step}", "builtin"),
            ev.VerifyFinished(step, "cpu", _failed("compile") if step < 3 else _timed(2.0)),
        ]
    nodes = search_tree(fold(enumerate(events, start=1)))
    assert [(n.node_id, n.parent, n.status) for n in nodes] == [
        ("n1", None, "failed"),
        ("n2", "n1", "failed"),
        ("n3", "n2", "verified"),
    ]
    assert candidate_rows(nodes)[2]["time_ms"] == 2.0


def test_the_first_round_is_one_root_and_budget_ends_the_search() -> None:
    assert _parents(plan_round("beam", [], 3, 5)) == [None]
    assert plan_round("beam", search_tree(_state([(1, None, _timed(1.0), False)])), 3, 0) == []


def test_beam_refines_the_fastest_width_nodes_with_untried_alternatives() -> None:
    state = _state(
        [
            (1, None, _timed(5.0), True),
            (2, "n1", _timed(2.0), True),
            (3, "n1", _timed(9.0), True),
            (4, "n1", _failed("compile"), True),
        ]
    )
    plans = plan_round("beam", search_tree(state), 2, 10)
    assert _parents(plans) == ["n2", "n1"]  # fastest first
    # configs 0..3 are tried: the fastest node gets the untried one nearest its own
    assert [p.alternative for p in plans] == [CONFIGS[4], CONFIGS[5]]
    tried_all = _state(
        [(1, None, _timed(1.0), True)] + [(s, "n1", _timed(2.0), True) for s in range(2, 7)]
    )
    assert plan_round("beam", search_tree(tried_all), 2, 10) == []


def test_beam_before_anything_verifies_repairs_the_furthest_failures() -> None:
    state = _state(
        [
            (1, None, _failed("compile"), False),
            (2, "n1", _failed("correctness"), False),
            (3, "n1", _failed("runtime"), False),
        ]
    )
    plans = plan_round("beam", search_tree(state), 2, 10)
    assert _parents(plans) == ["n2", "n3"]
    assert plans[0].idea == "repair n2 (correctness)"


def test_an_agent_without_alternatives_gets_width_children_of_one_parent() -> None:
    plans = plan_round("beam", search_tree(_state([(1, None, _timed(1.0), False)])), 3, 10)
    assert _parents(plans) == ["n1", "n1", "n1"]
    assert all(p.alternative is None for p in plans)


def test_evolve_explores_little_visited_branches_and_shows_other_branches() -> None:
    state = _state(
        [
            (1, None, _timed(4.0), False),
            (2, "n1", _timed(2.0), False),
            (3, "n2", _timed(1.9), False),
            (4, "n3", _timed(1.8), False),
            (5, "n1", _failed("compile"), False),
            (6, "n1", _timed(3.0), False),
        ]
    )
    plans = plan_round("evolve", search_tree(state), 2, 10)
    parents = _parents(plans)
    assert parents[0] == "n4"  # the fastest, on a leaf (explored least)
    assert len(set(parents)) == 2
    shown = {n.node_id for n in plans[0].inspirations}
    assert shown == {"n6", "n5"}  # another branch's best and its failure, not n4's ancestors


def test_open_nodes_are_neither_parents_nor_done() -> None:
    nodes = search_tree(_state([(1, None, _timed(1.0), False), (2, "n1", None, False)]))
    assert [n.done for n in nodes] == [True, False]
    assert nodes[1].status == "verifying"
    assert _parents(plan_round("beam", nodes, 1, 10)) == ["n1"]


def test_nearest_untried_walks_out_from_the_current_alternative() -> None:
    assert nearest_untried(CONFIGS, CONFIGS[3], [CONFIGS[3]]) == CONFIGS[2]
    assert nearest_untried(CONFIGS, CONFIGS[3], [CONFIGS[3], CONFIGS[2]]) == CONFIGS[4]
    assert nearest_untried(CONFIGS, None, list(CONFIGS)) is None


def test_speed_of_light_is_the_larger_bound_of_bytes_and_flops() -> None:
    memory = speed_of_light(
        {"bytes_moved": 4e9, "device_copy_bytes_per_s": 4e12, "candidate": {"median_ms": 2.0}}
    )
    assert memory is not None and memory.basis == "memory" and memory.bound_ms == 1.0
    assert share_of_light(memory, 2.0) == 0.5
    compute = speed_of_light(
        {
            "bytes_moved": 4e6,
            "device_copy_bytes_per_s": 4e12,
            "device_matmul_bf16_flop_per_s": 1e15,
            "achieved_flop_per_s": 5e14,
            "candidate": {"median_ms": 4.0},
        }
    )
    assert compute is not None and compute.basis == "compute"
    assert compute.flops == 2_000_000_000_000 and compute.bound_ms == 2.0
    assert speed_of_light({"candidate": {"median_ms": 1.0}}) is None  # CPU: nothing measured


def test_a_node_reports_its_share_of_speed_of_light() -> None:
    timed = _timed(2.0)
    timed["timings"].update({"bytes_moved": 4e9, "device_copy_bytes_per_s": 4e12})
    node: Node = search_tree(_state([(1, None, timed, False)]))[0]
    assert node.sol == 0.5


def _on_gpu(ms: float) -> dict[str, Any]:
    """A timed result whose bytes and device rates put the bound at 1 ms."""
    result = _timed(ms)
    result["timings"].update({"bytes_moved": 4e9, "device_copy_bytes_per_s": 4e12})
    return result


def test_target_sol_stops_once_a_node_reaches_it() -> None:
    nodes = search_tree(_state([(1, None, _on_gpu(2.0), False), (2, "n1", _on_gpu(1.1), False)]))
    assert stop_reason(nodes, 2, "profile", 0.95, 10) is None  # 0.91 of the bound
    assert stop_reason(nodes, 2, "profile", 0.9, 10) == (
        "verified",
        "n2 reached 0.91 of speed-of-light",
    )


def test_a_search_ends_at_its_budget_or_its_first_kernel_when_not_profiling() -> None:
    nodes = search_tree(
        _state([(1, None, _failed("compile"), False), (2, "n1", _timed(3.0), False)])
    )
    assert stop_reason(nodes, 2, "precision_only", None, 10) == ("verified", "n2 verified")
    assert stop_reason(nodes, 2, "profile", None, 10) is None
    assert stop_reason(nodes, 2, "profile", None, 2) == (
        "verified",
        "step budget spent; keeping n2",
    )
    failed = nodes[:1]
    assert stop_reason(failed, None, "profile", None, 1)[0] == "limit_reached"  # type: ignore[index]


def test_an_agent_error_another_node_cannot_fix_ends_the_search() -> None:
    events: list[ev.Event] = [SAMPLES["task.created"]]
    events += [
        ev.NodeCreated(1, "n1", [], "builtin", "first candidate"),
        ev.CodeMissing(1, "builtin", "unsupported", "cannot lower: aten.foo", ops=["aten.foo"]),
    ]
    nodes = search_tree(fold(enumerate(events, start=1)))
    reason, message = stop_reason(nodes, None, "profile", None, 10) or ("", "")
    assert reason == "unsupported" and "aten.foo" in message


def _directions(plans: list[Any]) -> list[str]:
    """The listed direction each plan's idea ends with ("repair" for a repair)."""
    listed = listed_directions()
    return [
        next(
            (d for d in listed if p.idea.endswith(f": {d}")), "repair" if "repair" in p.idea else ""
        )
        for p in plans
    ]


def test_siblings_of_an_llm_parent_each_get_their_own_direction_in_list_order() -> None:
    nodes = search_tree(_state([(1, None, _timed(1.0), False)]))
    plans = plan_round("beam", nodes, 3, 10)
    listed = listed_directions()
    assert _directions(plans) == list(listed[:3])
    assert plans[0].idea == f"a faster kernel than n1 (1 ms): {listed[0]}"
    assert plan_round("beam", nodes, 3, 10) == plans  # a pure function of the tree
    # once every direction is taken, the least used comes round again, first in list order
    directions = Directions(nodes)
    root = nodes[0]
    assert [directions.next_for(root) for _ in range(len(listed) + 1)] == [*listed, listed[0]]


def test_a_child_avoids_its_parents_direction_and_a_failed_parent_is_repaired_first() -> None:
    listed = listed_directions()
    # n2 went in the first direction and is the fastest: its children take the others
    tree = _state([(1, None, _timed(5.0), False), (2, "n1", _timed(1.0), False)])
    plans = plan_round("beam", search_tree(tree), 3, 10)
    assert _parents(plans) == ["n2", "n1", "n2"]
    assert _directions(plans) == [listed[1], listed[1], listed[2]]
    # nothing verified: the root's first child repairs it, the next ones try directions
    failed = search_tree(_state([(1, None, _failed("compile"), False)]))
    plans = plan_round("beam", failed, 3, 10)
    assert [p.idea for p in plans] == [
        "repair n1 (compile)",
        f"another approach than n1 (failed at compile): {listed[0]}",
        f"another approach than n1 (failed at compile): {listed[1]}",
    ]
    # a repair goes the way of the node it repairs: n2 (listed[0]) failed, n3 repaired it,
    # so n3's children avoid listed[0] as well
    repaired = _state(
        [
            (1, None, _timed(5.0), False),
            (2, "n1", _failed("runtime"), False),
            (3, "n2", _timed(1.0), False),
        ]
    )
    nodes = search_tree(repaired)
    directions = Directions(nodes)
    assert [directions.given(n) for n in nodes] == [None, listed[0], REPAIR]
    assert directions.tried(nodes[2]) == listed[0]
    assert directions.next_for(nodes[2]) == listed[1]


def test_beam_shows_llm_children_other_branches_but_not_the_builtin_agents() -> None:
    llm = [(1, None, _timed(5.0), False), (2, "n1", _timed(1.0), False)]
    llm += [(3, "n1", _timed(2.0), False), (4, "n1", _failed("compile"), False)]
    plans = plan_round("beam", search_tree(_state(llm)), 1, 10)
    assert _parents(plans) == ["n2"]
    assert [n.node_id for n in plans[0].inspirations] == ["n3", "n4"]
    builtin = [(s, parent, result, True) for s, parent, result, _ in llm]
    plans = plan_round("beam", search_tree(_state(builtin)), 3, 10)
    assert plans and all(p.inspirations == () for p in plans)
