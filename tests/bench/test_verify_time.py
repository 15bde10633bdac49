"""Where verification time went, as the bench report shows it (`aikg show` and a real
bench run: tests/bench/test_bench_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aikg.bench.report import BenchRow, RunMeta, write_report
from aikg.breakdown import breakdown_text, total_breakdown
from verifier.result import TimeBreakdown

SECTION = "## Where the verification time went"


def _times(**seconds: float) -> TimeBreakdown:
    return TimeBreakdown(**seconds)


def test_total_adds_phases_and_weights_the_busy_fraction_by_time_covered() -> None:
    a = _times(inputs_s=1.0, trials_s=2.0, wall_s=4.0, timing_s=1.0, gpu_busy_fraction=0.5)
    b = _times(inputs_s=0.5, trials_s=1.0, wall_s=1.0, gpu_busy_fraction=1.0)
    cpu = _times(trials_s=3.0, wall_s=3.0)  # no GPU: left out of the busy fraction
    total = total_breakdown([a, b, cpu])
    assert total is not None
    assert (total.inputs_s, total.trials_s, total.wall_s) == (1.5, 6.0, 8.0)
    # a covers 3 s outside timing at 50%, b 1 s at 100%
    assert total.gpu_busy_fraction == pytest.approx((1.5 + 1.0) / 4.0)
    assert total_breakdown([]) is None


def test_waits_for_the_device_are_shown_and_left_out_of_the_busy_fraction() -> None:
    waited = _times(trials_s=1.0, wait_s=3.0, wall_s=4.0, gpu_busy_fraction=1.0)
    alone = _times(trials_s=1.0, wall_s=1.0, gpu_busy_fraction=0.0)
    total = total_breakdown([waited, alone])
    assert total is not None and total.wait_s == 3.0
    assert total.gpu_busy_fraction == pytest.approx(0.5)  # 1 s busy of 2 s not waiting
    assert "device wait 3.00 s" in breakdown_text(waited)


def test_report_has_a_time_section_and_reads_it_back(tmp_path: Path) -> None:
    meta = RunMeta(backend="cuda", gpu_name="H200")
    timed = _times(
        worker_start_s=3.0, inputs_s=0.1, timing_s=2.5, wall_s=4.0, gpu_busy_fraction=0.6
    )
    rows = [
        BenchRow("a.py", "relu", "pointwise", "verified", 1, 4.2, verify_time=timed),
        BenchRow("b.py", "conv", "other", "unsupported", 1, 0.2),
    ]
    files = write_report(rows, meta, tmp_path)
    markdown = files.markdown.read_text()
    section = markdown[markdown.index(SECTION) :]
    assert "| relu | 3.0 | 0.1 | 0.0 | 0.0 | 0.0 | 2.5 | 0.0 | 0.0 | 7.0 | 60% |" in section
    assert "**all tasks**" in section and "conv" not in section
    back = [BenchRow(**row) for row in json.loads(files.json.read_text())["rows"]]
    assert back[0].verify_time == timed and back[1].verify_time is None


def test_report_without_breakdowns_has_no_time_section(tmp_path: Path) -> None:
    rows = [BenchRow("a.py", "relu", "pointwise", "verified", 1, 4.2)]
    files = write_report(rows, RunMeta(backend="cuda"), tmp_path)
    assert SECTION not in files.markdown.read_text()
