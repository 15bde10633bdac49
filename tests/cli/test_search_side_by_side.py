"""`aikg run --search beam` verifies a round's candidates side by side on one CPU device
(`devicepool.capacity: 1`): the nodes share the task's lease, so two of a round's jobs hold
the device gate at once in its free and shared phases, and every timing runs alone
(docs/search.md, docs/verifier.md). Read back from the `device_spans` the results carry."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import pytest

from tests.e2e.conftest import rows

REPO = Path(__file__).resolve().parents[2]
TASK = str(REPO / "benchmarks" / "suite" / "pointwise_elu.py")  # 64x32 on the CPU

Span = tuple[str, float, float]


@pytest.mark.slow
def test_a_rounds_nodes_share_the_device_and_time_alone(
    tmp_path: Path, aikg: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    # three rounds: n1, then n2 n3 (a second worker starts), then n4 n5 on two warm workers
    search = ["--search", "beam", "--width", "2", "--budget-steps", "5"]
    ran = aikg("run", TASK, "--task-id", "r", "-q", "--task-type", "profile", *search)
    assert ran.returncode == 0, ran.stderr
    events = [
        (type_, json.loads(payload)) for _, type_, payload in rows(tmp_path / "events.db", "r")
    ]

    round_of = {p["step"]: p["round"] for t, p in events if t == "node.created"}
    spans: dict[int, list[Span]] = {
        p["step"]: [tuple(s) for s in p["result"]["device_spans"]]
        for t, p in events
        if t == "verify.finished"
    }
    assert len(spans) == 5 and sorted(spans) == list(spans)  # every node, in node order
    # each node's lease, result and release are recorded together: none left open
    device_events = [(t, p["step"]) for t, p in events if t.startswith(("device.", "verify.f"))]
    expected = [("device.leased", "verify.finished", "device.released")[i % 3] for i in range(15)]
    assert [t for t, _ in device_events] == expected
    assert all(device_events[i][1] == device_events[i + 2][1] for i in range(0, 15, 3))

    side_by_side = [
        (a, b)
        for a, b in combinations(spans, 2)
        if round_of[a] == round_of[b] and _overlaps(_on_device(spans[a]), _on_device(spans[b]))
    ]
    assert side_by_side, f"no two nodes of a round held the device at once: {spans}"
    for a, b in combinations(spans, 2):
        for timed, other in ((spans[a], spans[b]), (spans[b], spans[a])):
            exclusive = [s for s in timed if s[0] == "exclusive"]
            assert exclusive and not _overlaps(exclusive, _held(other)), (a, b, spans)


def _on_device(spans: list[Span]) -> list[Span]:
    return [s for s in spans if s[0] in ("free", "shared")]


def _held(spans: list[Span]) -> list[Span]:
    return [s for s in spans if s[0] != "wait"]


def _overlaps(mine: list[Span], theirs: list[Span]) -> bool:
    return any(a[1] < b[2] and b[1] < a[2] for a in mine for b in theirs)
