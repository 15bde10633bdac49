"""The benchmark report: per-task rows and run metadata in, report.md/.json/speedup.png out.

Pure building: no torch, no device, no task runs. The runner fills one `BenchRow` per task
and a `RunMeta` for the run; `write_report` does the arithmetic and writes the files.

fast_p (KernelBench's metric) is the fraction of *all* tasks that verified and ran more
than p times faster than the baseline; a verified task without a timing counts as not
faster. Geometric means are over verified tasks that have a speedup. On the CPU backend
Triton runs in its interpreter, so the report gives correctness only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aikg.bench.lowering_share import LoweringShare, lowering_share
from aikg.bench.row import BASELINES, STATUSES, BenchRow
from aikg.bench.targets import (
    TargetResult,
    check_targets,
    geomean_speedup,
    target_lines,
    verified_speedups,
)
from aikg.bench.time_lines import time_lines

BASELINE_TITLES = {"eager": "eager", "compile": "torch.compile"}
FAST_P = (0.0, 1.0, 1.5)
CHART_NAME = "speedup.png"
CPU_NOTE = (
    "CPU backend: Triton runs in its interpreter, so its timings are not speedups. "
    "This report gives correctness only (no speedups, throughput or fast_p)."
)
MATPLOTLIB_NOTE = (
    "speedup.png was not written: matplotlib is not installed (pip install 'aikg[bench]')."
)
NO_SPEEDUPS_NOTE = "speedup.png was not written: no verified task has a speedup to plot."
MESSAGE_WIDTH = 100


@dataclass(frozen=True)
class RunMeta:
    """What the run ran on; shown at the top of the report."""

    backend: str  # cpu | cuda
    gpu_name: str = ""
    driver: str = ""
    torch_version: str = ""
    triton_version: str = ""
    date: str = ""
    shapes: str = "default"
    llm: str = ""

    @property
    def correctness_only(self) -> bool:
        return self.backend == "cpu"


@dataclass(frozen=True)
class Summary:
    n_tasks: int
    status_counts: dict[str, int]
    family_counts: dict[str, dict[str, int]]  # family -> {"tasks": n, "verified": k}
    total_steps: int
    total_wall_s: float
    total_tokens: int
    total_cost_usd: float
    # baseline -> {"fast_0": f, "fast_1": f, "fast_1.5": f}; None when correctness only
    fast_p: dict[str, dict[str, float]] | None = None
    # baseline -> geometric mean speedup (None: nothing to average); None when correctness only
    geomean_speedup: dict[str, float | None] | None = None
    # baseline -> how many verified tasks the geometric mean covers
    geomean_count: dict[str, int] | None = None
    # the suite's speed targets (aikg.bench.targets); None when correctness only
    targets: list[TargetResult] | None = None
    # how many reference graphs the agent lowered, and the ops that stopped the rest
    lowering: LoweringShare = field(default_factory=LoweringShare)
    # family -> baseline -> geometric mean speedup of its verified tasks; None when
    # correctness only
    family_geomeans: dict[str, dict[str, float | None]] | None = None


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    json: Path
    chart: Path | None
    notes: list[str] = field(default_factory=list)


def fast_p_key(p: float) -> str:
    return f"fast_{p:g}"


def fast_p(rows: Sequence[BenchRow], p: float, baseline: str) -> float:
    """Fraction of all rows that verified and beat `p` times the baseline."""
    if not rows:
        return 0.0
    hits = 0
    for row in rows:
        speedup = row.speedup(baseline)
        if row.status == "verified" and speedup is not None and speedup > p:
            hits += 1
    return hits / len(rows)


def summarize(rows: Sequence[BenchRow], meta: RunMeta) -> Summary:
    status_counts = {status: 0 for status in STATUSES}
    family_counts: dict[str, dict[str, int]] = {}
    for row in rows:
        status_counts[row.status] += 1
        counts = family_counts.setdefault(row.family, {"tasks": 0, "verified": 0})
        counts["tasks"] += 1
        counts["verified"] += row.status == "verified"
    fast: dict[str, dict[str, float]] | None = None
    geomean: dict[str, float | None] | None = None
    geomean_count: dict[str, int] | None = None
    targets: list[TargetResult] | None = None
    family_geomeans: dict[str, dict[str, float | None]] | None = None
    if not meta.correctness_only:
        targets = check_targets(rows)
        fast = {b: {fast_p_key(p): fast_p(rows, p, b) for p in FAST_P} for b in BASELINES}
        geomean = {b: geomean_speedup(rows, b) for b in BASELINES}
        geomean_count = {b: len(verified_speedups(rows, b)) for b in BASELINES}
        family_geomeans = {
            family: {
                b: geomean_speedup([r for r in rows if r.family == family], b) for b in BASELINES
            }
            for family in sorted(family_counts)
        }
    return Summary(
        n_tasks=len(rows),
        status_counts=status_counts,
        family_counts=dict(sorted(family_counts.items())),
        total_steps=sum(r.steps for r in rows),
        total_wall_s=sum(r.wall_s for r in rows),
        total_tokens=sum(r.tokens for r in rows),
        total_cost_usd=sum(r.cost_usd for r in rows),
        fast_p=fast,
        geomean_speedup=geomean,
        geomean_count=geomean_count,
        family_geomeans=family_geomeans,
        targets=targets,
        lowering=lowering_share(rows),
    )


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def _speedup(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


REVERIFIED_MARK = "†"
REVERIFIED_NOTE = (
    f"{REVERIFIED_MARK} over 10x faster than every baseline: verified and timed again in a "
    "fresh verifier process before it was accepted."
)


PROSE_MARK = "✎"
PROSE_NOTE = (
    f"{PROSE_MARK} reference written by aikg from a prose description: check it with "
    "`aikg show TASK_ID --reference` before trusting the result."
)


def _task_name(row: BenchRow) -> str:
    return row.op_name + (PROSE_MARK if row.reference_from_prose else "")


def _flag(row: BenchRow) -> str:
    return REVERIFIED_MARK if row.suspicious_speedup else ""


def _throughput(row: BenchRow) -> str:
    if row.achieved_tflops is not None:
        return f"{row.achieved_tflops:.1f} TFLOP/s"
    if row.achieved_gbps is not None:
        return f"{row.achieved_gbps:.0f} GB/s"
    return "—"


def _cell(text: str) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= MESSAGE_WIDTH else flat[: MESSAGE_WIDTH - 1] + "…"


def _meta_line(meta: RunMeta) -> str:
    parts = [f"backend **{meta.backend}**", f"shapes {meta.shapes}"]
    labelled = (
        ("GPU", meta.gpu_name),
        ("driver", meta.driver),
        ("torch", meta.torch_version),
        ("Triton", meta.triton_version),
        ("LLM", meta.llm),
        ("date", meta.date),
    )
    parts += [f"{label} {value}" for label, value in labelled if value]
    return " · ".join(parts)


def _summary_lines(summary: Summary, meta: RunMeta) -> list[str]:
    counts = ", ".join(f"{summary.status_counts[s]} {s}" for s in STATUSES)
    lines = ["## Summary", "", f"- Tasks: {summary.n_tasks} ({counts})"]
    lines.append(
        f"- Totals: {summary.total_steps} steps, {summary.total_wall_s:.1f} s, "
        f"{summary.total_tokens} tokens, ${summary.total_cost_usd:.4f}"
    )
    lines.append(summary.lowering.line())
    lines.append("")
    if meta.correctness_only or summary.fast_p is None or summary.geomean_speedup is None:
        lines += [f"> **{CPU_NOTE}**", ""]
    else:
        lines += ["| metric | vs eager | vs torch.compile |", "|---|---|---|"]
        for p in FAST_P:
            key = fast_p_key(p)
            cells = " | ".join(_percent(summary.fast_p[b][key]) for b in BASELINES)
            lines.append(f"| {key} | {cells} |")
        geo_cells = []
        for b in BASELINES:
            count = (summary.geomean_count or {}).get(b, 0)
            geo_cells.append(f"{_speedup(summary.geomean_speedup[b])} (n={count})")
        lines += [f"| geomean speedup, verified | {' | '.join(geo_cells)} |", ""]
        lines += [
            "fast_p: share of all tasks that verified and ran more than p times faster "
            "than the baseline.",
            "",
        ]
    if summary.family_geomeans is None:
        lines += ["| family | tasks | verified |", "|---|---|---|"]
        for family, counts in summary.family_counts.items():
            lines.append(f"| {family} | {counts['tasks']} | {counts['verified']} |")
    else:
        lines += [
            "| family | tasks | verified | geomean vs eager | vs torch.compile |",
            "|---|---|---|---|---|",
        ]
        for family, counts in summary.family_counts.items():
            means = summary.family_geomeans[family]
            cells = " | ".join(_speedup(means[b]) for b in BASELINES)
            lines.append(f"| {family} | {counts['tasks']} | {counts['verified']} | {cells} |")
    lines.append("")
    return lines


def _task_lines(rows: Sequence[BenchRow], meta: RunMeta) -> list[str]:
    lines = ["## Tasks", ""]
    if meta.correctness_only:
        lines += [
            "| task | family | status | steps | wall s | tokens | cost $ | message |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {_task_name(r)} | {r.family} | {r.status} | {r.steps} | {r.wall_s:.1f} "
                f"| {r.tokens} | {r.cost_usd:.4f} | {_cell(r.message)} |"
            )
    else:
        lines += [
            "| task | family | status | steps | wall s | vs eager | vs torch.compile "
            "| achieved | roofline | tokens | cost $ | message |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            roofline = "—" if r.roofline_fraction is None else _percent(r.roofline_fraction)
            lines.append(
                f"| {_task_name(r)} | {r.family} | {r.status} | {r.steps} | {r.wall_s:.1f} "
                f"| {_speedup(r.speedup_vs_eager)}{_flag(r)} | {_speedup(r.speedup_vs_compile)} "
                f"| {_throughput(r)} | {roofline} | {r.tokens} | {r.cost_usd:.4f} "
                f"| {_cell(r.message)} |"
            )
    lines.append("")
    if not meta.correctness_only and any(r.suspicious_speedup for r in rows):
        lines += [REVERIFIED_NOTE, ""]
    if any(r.reference_from_prose for r in rows):
        lines += [PROSE_NOTE, ""]
    return lines


def render_markdown(
    rows: Sequence[BenchRow],
    meta: RunMeta,
    summary: Summary,
    chart: str | None,
    notes: Sequence[str],
) -> str:
    lines = ["# aikg benchmark report", "", _meta_line(meta), ""]
    lines += _summary_lines(summary, meta)
    if summary.targets is not None:
        lines += target_lines(summary.targets)
    if chart is not None:
        lines += [f"![speedup per task]({chart})", ""]
    shown = [note for note in notes if note != CPU_NOTE]
    lines += [f"> {note}" for note in shown]
    if shown:
        lines.append("")
    lines += _task_lines(rows, meta)
    lines += time_lines([(r.op_name, r.verify_time) for r in rows])
    return "\n".join(lines)


def plot_speedups(rows: Sequence[BenchRow], path: Path) -> str | None:
    """Write the speedup bar chart; returns None on success, else why it was not written."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return MATPLOTLIB_NOTE
    plotted = [
        r
        for r in rows
        if r.status == "verified" and any(r.speedup(b) is not None for b in BASELINES)
    ]
    if not plotted:
        return NO_SPEEDUPS_NOTE
    width = 0.4
    fig = Figure(figsize=(max(8.0, 0.35 * len(plotted) + 2), 5.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, baseline in enumerate(BASELINES):
        xs = [k + (i - 0.5) * width for k in range(len(plotted))]
        speedups = [r.speedup(baseline) or math.nan for r in plotted]
        # Bars grow from 1x, up for faster and down for slower than the baseline.
        heights = [s - 1.0 for s in speedups]
        ax.bar(xs, heights, width, bottom=1.0, label=f"vs {BASELINE_TITLES[baseline]}")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:g}x"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda y, _pos: f"{y:g}x"))
    ax.set_ylabel("speedup over baseline (log scale)")
    ax.set_title("aikg speedup per verified task")
    ax.set_xticks(range(len(plotted)))
    ax.set_xticklabels([r.op_name for r in plotted], rotation=75, ha="right", fontsize=7)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return None


def report_dict(
    rows: Sequence[BenchRow], meta: RunMeta, summary: Summary, chart: str | None, notes: list[str]
) -> dict[str, object]:
    return {
        "meta": asdict(meta),
        "correctness_only": meta.correctness_only,
        "summary": asdict(summary),
        "rows": [asdict(r) for r in rows],
        "chart": chart,
        "notes": notes,
    }


def write_report(rows: Sequence[BenchRow], meta: RunMeta, out_dir: Path | str) -> ReportFiles:
    """Write report.md, report.json and (on a GPU backend) speedup.png into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if meta.correctness_only:
        rows = [r.correctness_only() for r in rows]
    summary = summarize(rows, meta)
    notes: list[str] = []
    chart_path: Path | None = None
    if meta.correctness_only:
        notes.append(CPU_NOTE)
    else:
        chart_path = out / CHART_NAME
        why_not = plot_speedups(rows, chart_path)
        if why_not is not None:
            notes.append(why_not)
            chart_path = None
    chart = chart_path.name if chart_path is not None else None
    markdown = out / "report.md"
    markdown.write_text(render_markdown(rows, meta, summary, chart, notes), encoding="utf-8")
    json_path = out / "report.json"
    payload = report_dict(rows, meta, summary, chart, notes)
    json_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return ReportFiles(markdown=markdown, json=json_path, chart=chart_path, notes=notes)
