"""Report arithmetic (fast_p, geometric means, totals) and the files it writes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aikg.bench import BenchRow, RunMeta, summarize, write_report
from aikg.bench.report import CPU_NOTE, MATPLOTLIB_NOTE, NO_SPEEDUPS_NOTE, fast_p, geomean_speedup

REPO = Path(__file__).resolve().parents[2]
CUDA = RunMeta(
    backend="cuda",
    gpu_name="NVIDIA H100 80GB HBM3",
    driver="550.54.15",
    torch_version="2.11.0",
    triton_version="3.6.0",
    date="2026-11-26",
)
CPU = RunMeta(backend="cpu", torch_version="2.13.0", date="2026-11-26", shapes="small")


def rows() -> list[BenchRow]:
    return [
        BenchRow("a.py", "a", "pointwise", "verified", 2, 10.0, 2.0, 1.2, 2900.0, None, 0.9, 100),
        BenchRow("b.py", "b", "pointwise", "verified", 3, 20.0, 1.2, 0.8, 2500.0, None, 0.8, 200),
        BenchRow("c.py", "c", "matmul", "verified", 4, 30.0, 0.5, 0.25, None, 400.0, 0.5, 300),
        # A failed task's stale timing must not count.
        BenchRow("d.py", "d", "norm", "failed", 8, 40.0, 3.0, 3.0, message="mismatch | max err 1"),
        BenchRow("e.py", "e", "scan", "unsupported", 1, 1.0, message="cannot lower: aten.cumsum"),
        # Exactly 1.5x is not faster than 1.5x; no compile timing counts as not faster.
        BenchRow("f.py", "f", "loss", "verified", 5, 50.0, 1.5, None, tokens=400, cost_usd=0.25),
    ]


@pytest.mark.parametrize(
    ("baseline", "p", "expected"),
    [
        ("eager", 0.0, 4 / 6),
        ("eager", 1.0, 3 / 6),
        ("eager", 1.5, 1 / 6),
        ("compile", 0.0, 3 / 6),
        ("compile", 1.0, 1 / 6),
        ("compile", 1.5, 0.0),
    ],
)
def test_fast_p_counts_verified_tasks_faster_than_p(baseline: str, p: float, expected: float):
    assert fast_p(rows(), p, baseline) == pytest.approx(expected)


def test_geomean_is_over_verified_tasks_with_a_speedup() -> None:
    # eager: (2.0 * 1.2 * 0.5 * 1.5) ** (1/4) = 1.8 ** 0.25; compile: (1.2 * 0.8 * 0.25) ** (1/3)
    assert geomean_speedup(rows(), "eager") == pytest.approx(1.1582921853)
    assert geomean_speedup(rows(), "compile") == pytest.approx(0.6214465012)
    assert geomean_speedup(rows()[3:5], "eager") is None


def test_fast_p_of_no_tasks_is_zero() -> None:
    assert fast_p([], 1.0, "eager") == 0.0


def test_summary_counts_and_totals() -> None:
    summary = summarize(rows(), CUDA)
    assert summary.n_tasks == 6
    assert summary.status_counts == {"verified": 4, "failed": 1, "unsupported": 1, "error": 0}
    assert summary.family_counts["pointwise"] == {"tasks": 2, "verified": 2}
    assert summary.family_counts["norm"] == {"tasks": 1, "verified": 0}
    assert (summary.total_steps, summary.total_tokens) == (23, 1000)
    assert summary.total_wall_s == pytest.approx(151.0)
    assert summary.total_cost_usd == pytest.approx(0.25)
    assert summary.fast_p is not None
    assert summary.fast_p["eager"]["fast_1.5"] == pytest.approx(1 / 6)
    assert summary.geomean_count == {"eager": 4, "compile": 3}
    assert summary.family_geomeans is not None
    assert summary.family_geomeans["pointwise"] == {
        "eager": pytest.approx((2.0 * 1.2) ** 0.5),
        "compile": pytest.approx((1.2 * 0.8) ** 0.5),
    }
    # the failed norm's stale timing does not count; the loss has no compile timing
    assert summary.family_geomeans["norm"] == {"eager": None, "compile": None}
    assert summary.family_geomeans["loss"] == {"eager": pytest.approx(1.5), "compile": None}
    assert summarize(rows(), CPU).family_geomeans is None


def test_the_family_table_gives_each_familys_geomeans(tmp_path: Path) -> None:
    lines = write_report(rows(), CUDA, tmp_path).markdown.read_text().splitlines()
    assert "| pointwise | 2 | 2 | 1.55x | 0.98x |" in lines
    assert "| norm | 1 | 0 | — | — |" in lines


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown status 'passed'"):
        BenchRow("a.py", "a", "pointwise", "passed")


def test_cuda_report_writes_summary_table_json_and_chart(tmp_path: Path) -> None:
    files = write_report(rows(), CUDA, tmp_path / "out")
    markdown = files.markdown.read_text(encoding="utf-8")
    assert markdown.index("## Summary") < markdown.index("## Tasks")
    assert "NVIDIA H100 80GB HBM3" in markdown and "Triton 3.6.0" in markdown
    assert "| fast_1 | 50.0% | 16.7% |" in markdown
    assert "| fast_1.5 | 16.7% | 0.0% |" in markdown
    assert "| geomean speedup, verified | 1.16x (n=4) | 0.62x (n=3) |" in markdown
    assert "23 steps, 151.0 s, 1000 tokens, $0.2500" in markdown
    assert "| c | matmul | verified | 4 | 30.0 | 0.50x | 0.25x | 400.0 TFLOP/s | 50.0% |" in (
        markdown
    )
    assert "mismatch \\| max err 1" in markdown
    assert "![speedup per task](speedup.png)" in markdown
    assert files.chart is not None
    assert files.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(files.json.read_text(encoding="utf-8"))
    assert report["correctness_only"] is False
    assert report["meta"]["driver"] == "550.54.15"
    assert report["summary"]["fast_p"]["compile"]["fast_0"] == pytest.approx(0.5)
    assert report["rows"][2]["achieved_tflops"] == 400.0
    assert report["chart"] == "speedup.png"


def test_cpu_report_is_correctness_only(tmp_path: Path) -> None:
    files = write_report(rows(), CPU, tmp_path)
    markdown = files.markdown.read_text(encoding="utf-8")
    assert CPU_NOTE in markdown
    rest = markdown.replace(CPU_NOTE, "")
    for timing_word in ("fast_", "vs eager", "geomean", "GB/s", "TFLOP/s", "speedup.png"):
        assert timing_word not in rest
    assert "| d | norm | failed | 8 | 40.0 |" in markdown
    assert files.chart is None and not (tmp_path / "speedup.png").exists()
    report = json.loads(files.json.read_text(encoding="utf-8"))
    assert report["correctness_only"] is True
    assert report["summary"]["fast_p"] is None
    assert report["summary"]["geomean_speedup"] is None
    assert all(row["speedup_vs_eager"] is None for row in report["rows"])
    assert report["summary"]["status_counts"]["verified"] == 4


def test_no_chart_when_nothing_verified(tmp_path: Path) -> None:
    files = write_report(rows()[3:5], CUDA, tmp_path)
    assert files.chart is None
    assert files.notes == [NO_SPEEDUPS_NOTE]
    assert NO_SPEEDUPS_NOTE in files.markdown.read_text(encoding="utf-8")


def test_report_without_matplotlib_says_so(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["matplotlib"] = None  # this interpreter has no matplotlib
        from aikg.bench import BenchRow, RunMeta, write_report
        row = BenchRow("a.py", "a", "pointwise", "verified", 1, 1.0, 2.0, 1.5)
        write_report([row], RunMeta(backend="cuda"), {str(tmp_path)!r})
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=60)
    assert not (tmp_path / "speedup.png").exists()
    assert MATPLOTLIB_NOTE in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "report.json").read_text())["notes"] == [MATPLOTLIB_NOTE]


def test_a_reverified_speedup_is_flagged_in_the_table_and_the_json(tmp_path: Path) -> None:
    flagged = BenchRow("g.py", "g", "pointwise", "verified", 1, 1.0, 14.0, 12.0)
    flagged = BenchRow(**{**flagged.__dict__, "suspicious_speedup": True})
    files = write_report([*rows(), flagged], CUDA, tmp_path / "out")
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "| g | pointwise | verified | 1 | 1.0 | 14.00x† | 12.00x |" in markdown
    assert "† over 10x faster than every baseline" in markdown
    assert "†" not in markdown.split("| g |")[0].split("## Tasks")[1]  # only the flagged row
    report = json.loads(files.json.read_text(encoding="utf-8"))
    assert [r["suspicious_speedup"] for r in report["rows"]][-2:] == [False, True]


def test_a_reference_written_from_prose_is_marked(tmp_path: Path) -> None:
    prose = BenchRow("swish.md", "swish", "prose", "verified", 1, 1.0, reference_from_prose=True)
    files = write_report([*rows(), prose], CPU, tmp_path / "out")
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "| swish✎ | prose | verified | 1 | 1.0 |" in markdown
    assert "✎ reference written by aikg from a prose description" in markdown
    assert markdown.count("✎") == 2  # the one row and the note
    report = json.loads(files.json.read_text(encoding="utf-8"))
    assert [r["reference_from_prose"] for r in report["rows"]][-2:] == [False, True]
