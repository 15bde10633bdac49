"""Search against linear at the same step budget, on a GPU (issue 16, docs/search.md).

For each task set (the suite, KernelBench level 1), runs `aikg bench` once per strategy
(`--search linear`, then `--search beam --width W`) with the same `--limit-steps`, each in
its own folder and event log and under a wall limit (the report holds every task finished
by then), and writes side by side the geometric mean speedup over eager and torch.compile
of the verified tasks, how many verified, and the wall time:

    . benchmarks/gpu/setup.sh && python3 benchmarks/search_gpu.py --out $OUT \\
        --set suite=benchmarks/suite --set level1=.kb/level1 --tasks 8 --steps 4 --seconds 55

`--tasks N` takes N files spread evenly over each set's sorted task files (0: all).
`$OUT` gets search.md (the table), search.json (the same numbers), one report folder per
run (`SET-STRATEGY/report.md`, `report.json`) and log.txt (every command's output).
On a machine without CUDA, `--backend cpu` runs the same comparison on the interpreter
(no speedups there: it checks the script, not the numbers).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    suffix = f"-{Path(args.config).stem}" if args.config else ""
    with (out / "log.txt").open("a") as log:
        for name, folder in (_named(s) for s in args.set):
            tasks = _spread(sorted(Path(folder).rglob("*.py")), args.tasks)
            for strategy in args.strategies.split(","):
                work = out / f"{name}-{strategy}{suffix}"
                row = _bench(args, name, strategy, tasks, work, log)
                results.append(row | {"config": suffix[1:]})
                print(_line(results[-1]), flush=True)
    (out / "search.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "search.md").write_text(_table(args, results))
    print((out / "search.md").read_text())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the reports and search.md")
    parser.add_argument(
        "--set", action="append", required=True, metavar="NAME=FOLDER", help="a task set"
    )
    parser.add_argument("--tasks", type=int, default=8, help="files per set, spread (0: all)")
    parser.add_argument("--steps", type=int, default=4, help="steps per task, both strategies")
    parser.add_argument("--width", type=int, default=3, help="beam width")
    parser.add_argument("--seconds", type=float, default=55, help="wall limit per bench run")
    parser.add_argument("--backend", default="cuda", help="cuda (default) or cpu")
    parser.add_argument(
        "--strategies", default="linear,beam", help="comma-separated, run in this order"
    )
    parser.add_argument(
        "--config", help="a YAML config for every run (e.g. verifier.workers_per_device: 1)"
    )
    return parser


def _named(text: str) -> tuple[str, str]:
    name, sep, folder = text.partition("=")
    if not sep or not name or not Path(folder).is_dir():
        sys.exit(f"--set {text!r}: write NAME=FOLDER with an existing folder of task files")
    return name, folder


def _spread(files: list[Path], count: int) -> list[Path]:
    files = [f for f in files if "class Model" in f.read_text(errors="replace")]
    if count <= 0 or count >= len(files):
        return files
    return [files[i * len(files) // count] for i in range(count)]


def _bench(
    args: argparse.Namespace,
    name: str,
    strategy: str,
    tasks: list[Path],
    work: Path,
    log: Any,
) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    (work / "tasks").mkdir(parents=True)
    for task in tasks:  # one folder per run: bench takes folders and files alike
        shutil.copy(task, work / "tasks" / task.name)
    search = ["--search", strategy] + (["--width", str(args.width)] if strategy != "linear" else [])
    command = [
        sys.executable, "-m", "aikg", "bench", str(work / "tasks"),
        "--backend", args.backend, "--limit-steps", str(args.steps), "--out", str(work / "report"),
        "--db", str(work / "events.db"), "-q", *search,
        *(["--config", str(Path(args.config).resolve())] if args.config else []),
    ]  # fmt: skip
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=work, stdout=log, stderr=log)
    try:
        code = proc.wait(timeout=args.seconds)
    except subprocess.TimeoutExpired:  # interrupted like Ctrl-C: the report keeps what finished
        proc.send_signal(signal.SIGINT)
        code = proc.wait()
    wall = time.monotonic() - started
    report = work / "report" / "report.json"
    summary = json.loads(report.read_text())["summary"] if report.exists() else {}
    geomean = summary.get("geomean_speedup") or {}
    return {
        "set": name,
        "strategy": strategy,
        "tasks": len(tasks),
        "steps": args.steps,
        "exit": code,
        "wall_s": round(wall, 1),
        "finished": summary.get("n_tasks", 0),
        "verified": (summary.get("status_counts") or {}).get("verified", 0),
        "geomean_vs_eager": geomean.get("eager"),
        "geomean_vs_compile": geomean.get("compile"),
    }


def _speed(value: float | None) -> str:
    return f"{value:.3f}x" if value else "n/a"


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['set']} {_label(row)}: {row['verified']}/{row['tasks']} verified, "
        f"{_speed(row['geomean_vs_compile'])} vs torch.compile, {row['wall_s']} s"
    )


def _label(row: dict[str, Any]) -> str:
    return f"{row['strategy']} ({row['config']})" if row.get("config") else row["strategy"]


def _table(args: argparse.Namespace, results: list[dict[str, Any]]) -> str:
    lines = [
        f"# Search against linear, {args.steps} steps per task (beam width {args.width}), "
        f"{args.backend}",
        "",
        "| set | strategy | tasks finished | verified | geomean vs eager "
        "| geomean vs torch.compile | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['set']} | {_label(r)} | {r['finished']}/{r['tasks']} | {r['verified']} "
        f"| {_speed(r['geomean_vs_eager'])} | {_speed(r['geomean_vs_compile'])} | {r['wall_s']} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
