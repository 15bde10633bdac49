"""Verifying several candidates on one GPU at once (issue 15, docs/benchmarks.md "Overlap").

The built-in agent writes one candidate per task (KernelBench level-1 files by default);
then, in rounds, all of them are verified at once in profile mode by a fresh ``Verifier``
with ``workers_per_device`` 1 (one after another) or 2 (loading, compiling and checking
side by side; timing alone: the device gate, docs/verifier.md). Each round reports its
wall time, the GPU's busy fraction (``nvidia-smi`` sampled every 100 ms, and the
verifier's own breakdown), the waits for the device, whether any timed phase overlapped
another job's use of the device, and every candidate's timings; the comparison says
whether the speedups measured with overlap equal those measured without, within the
noise (the timings' own p10-p90 spread, or the difference between two serial rounds), and
how much slower each task's trials ran beside another job's (``trials_s_ratio``).

On the GPU machine, from the repository root (about 3 minutes on an H200):

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/overlap.py .kb/level1 \\
        --json "$OUT/overlap.json"

On a CPU (the interpreter; timings are not speedups): ``--device cpu --tasks
pointwise_elu,pointwise_bias_relu benchmarks/suite`` (small shapes). The reference task
files are traced by the built-in agent in this process: run it on task files you trust.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agents.builtin.provider import write_code  # noqa: E402
from agents.types import AgentRequest, Target, Unsupported  # noqa: E402
from verifier import Verifier, VerifyJob, VerifyResult  # noqa: E402

DEFAULT_TASKS = (
    "19_ReLU",
    "21_Sigmoid",
    "23_Softmax",
    "40_LayerNorm",
    "47_Sum_reduction_over_a_dimension",
    "1_Square_matrix_multiplication_",
)
WARMUP_TASK = ROOT / "examples" / "swish.py"  # starts each round's workers, not measured


def task_file(folder: Path, name: str) -> Path:
    path = folder / f"{name}.py"
    if not path.is_file():
        raise SystemExit(f"overlap.py: {path} not found: pass the folder holding {name}.py")
    return path


def candidate_for(name: str, reference: str, device: str) -> str:
    backend = device.split(":", 1)[0]
    request = AgentRequest(
        op_name=name,
        reference_source=reference,
        framework="torch",
        target=Target(backend=backend, arch=backend),
        task_type="profile",
        step=1,
    )
    return write_code(request).code


def make_jobs(folder: Path, names: list[str], device: str) -> tuple[list[VerifyJob], dict]:
    jobs, skipped = [], {}
    for name in names:
        reference = task_file(folder, name).read_text()
        try:
            code = candidate_for(name, reference, device)
        except Unsupported as exc:
            skipped[name] = str(exc)
            continue
        jobs.append(profile_job(reference, code, device))
    return jobs, skipped


def profile_job(reference: str, code: str, device: str) -> VerifyJob:
    small = device == "cpu"
    return VerifyJob(
        reference, code, device=device, task_type="profile", timeout_s=600, small_shapes=small
    )


class GpuSampler:
    """``nvidia-smi``'s utilization.gpu every 100 ms while running (None without one)."""

    def __init__(self, device: str) -> None:
        self.index = device.partition(":")[2] or "0"
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> GpuSampler:
        try:
            self.proc = subprocess.Popen(
                ["nvidia-smi", "-i", self.index, "--query-gpu=utilization.gpu",
                 "--format=csv,noheader,nounits", "-lms", "100"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
        except OSError:
            self.proc = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()

    def mean_fraction(self) -> float | None:
        if self.proc is None:
            return None
        out, _ = self.proc.communicate(timeout=10)
        values = [float(v) for v in out.split() if v.replace(".", "", 1).isdigit()]
        return sum(values) / len(values) / 100 if values else None


def exclusive_violations(results: list[VerifyResult]) -> int:
    """Timed (exclusive) spans of one job that overlap another job's use of the device."""
    count = 0
    for i, job in enumerate(results):
        timed = [(a, b) for mode, a, b in job.device_spans if mode == "exclusive"]
        for j, other in enumerate(results):
            used = [(a, b) for m, a, b in other.device_spans if m in ("shared", "exclusive")]
            if i != j:
                count += sum(1 for t in timed for u in used if t[0] < u[1] and u[0] < t[1])
    return count


def busy_estimate(results: list[VerifyResult], wall_s: float) -> float | None:
    """GPU-busy seconds by the verifier's breakdowns (profiled kernels outside timing, and
    the timing phase counted as busy) over the round's wall time."""
    busy = 0.0
    for r in results:
        b = r.breakdown
        if b is None or b.gpu_busy_fraction is None:
            return None
        busy += b.gpu_busy_fraction * (b.wall_s - b.timing_s - b.wait_s) + b.timing_s
    return min(1.0, busy / wall_s)


def job_row(name: str, r: VerifyResult) -> dict[str, Any]:
    t = r.timings or {}
    cand = t.get("candidate") or {}
    return {
        "task": name,
        "passed": r.passed,
        "stage": r.stage,
        "message": r.message[:300],
        "candidate_ms": cand.get("median_ms"),
        "candidate_spread_ms": cand.get("spread_ms"),
        "eager_ms": (t.get("eager") or {}).get("median_ms"),
        "compile_ms": (t.get("compile") or {}).get("median_ms"),
        "speedup_vs_eager": t.get("speedup_vs_eager"),
        "speedup_vs_compile": t.get("speedup_vs_compile"),
        "breakdown": r.breakdown.__dict__ if r.breakdown else None,
        "device_spans": [list(s) for s in r.device_spans],
    }


def warmup_job(device: str) -> VerifyJob:
    """A quick job on another task, run once per worker before a round is timed."""
    reference = WARMUP_TASK.read_text()
    code = candidate_for("swish", reference, device)
    job = profile_job(reference, code, device)
    return VerifyJob.from_dict({**job.to_dict(), "task_type": "precision_only", "trials": 1})


async def run_round(
    names: list[str], jobs: list[VerifyJob], warm: VerifyJob, workers: int, device: str
) -> dict[str, Any]:
    async with Verifier(mode="warm", workers_per_device=workers) as verifier:
        await asyncio.gather(*(verifier.verify(warm) for _ in range(workers)))
        with GpuSampler(device) as sampler:
            started = time.monotonic()
            results = await asyncio.gather(*(verifier.verify(job) for job in jobs))
            wall = time.monotonic() - started
        nvidia_smi = sampler.mean_fraction()
    return {
        "workers_per_device": workers,
        "wall_s": wall,
        "gpu_busy_nvidia_smi": nvidia_smi,
        "gpu_busy_estimate": busy_estimate(results, wall),
        "wait_s": sum(r.breakdown.wait_s for r in results if r.breakdown),
        "exclusive_violations": exclusive_violations(results),
        "jobs": [job_row(n, r) for n, r in zip(names, results, strict=True)],
    }


def compare(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per task: candidate and baseline medians with and without overlap, and the noise."""
    serial = [r for r in rounds if r["workers_per_device"] == 1]
    overlap = next((r for r in rounds if r["workers_per_device"] > 1), None)
    rows: list[dict[str, Any]] = []
    if not serial or overlap is None:
        return rows
    for i, job in enumerate(serial[0]["jobs"]):
        row: dict[str, Any] = {"task": job["task"]}
        keys = ("candidate_ms", "eager_ms", "compile_ms", "speedup_vs_eager", "speedup_vs_compile")
        for key in keys:
            base, seen = job[key], overlap["jobs"][i][key]
            if base and seen:
                row[f"{key}_ratio"] = seen / base  # overlapped over serial
        # do trials side by side slow each other? (they hold the device gate shared)
        trials, seen_trials = (r["breakdown"]["trials_s"] for r in (job, overlap["jobs"][i]))
        if trials:
            row["trials_s_ratio"] = seen_trials / trials
        spread = job["candidate_spread_ms"] or 0.0
        noise = spread / job["candidate_ms"] if job["candidate_ms"] else None
        if len(serial) > 1 and job["candidate_ms"] and serial[1]["jobs"][i]["candidate_ms"]:
            repeat = serial[1]["jobs"][i]["candidate_ms"] / job["candidate_ms"]
            row["serial_repeat_ratio"] = repeat
            noise = max(noise or 0.0, abs(repeat - 1))
        row["noise"] = noise
        ratio = row.get("candidate_ms_ratio")
        if ratio is not None and noise is not None:
            tolerance = max(noise, 0.02)
            speedups = [row.get(f"{k}_ratio") for k in ("speedup_vs_eager", "speedup_vs_compile")]
            # a speedup is a ratio of two medians, each as noisy as the candidate's
            row["within_noise"] = abs(ratio - 1) <= tolerance and all(
                abs(r - 1) <= 2 * tolerance for r in speedups if r is not None
            )
        rows.append(row)
    return rows


def environment(device: str) -> dict[str, Any]:
    import torch
    import triton

    info = {"device": device, "torch": torch.__version__, "triton": triton.__version__}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="folder of task files (KernelBench level 1)")
    parser.add_argument("--tasks", default=",".join(DEFAULT_TASKS), help="comma-separated stems")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument(
        "--rounds", default="1,2,1", help="workers_per_device of each round (default: 1,2,1)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    try:
        rounds_spec = [int(v) for v in args.rounds.split(",")]
    except ValueError:
        parser.error(f"--rounds {args.rounds}: give numbers such as 1,2,1")
    if any(n < 1 for n in rounds_spec):
        parser.error("--rounds: each round needs at least 1 worker per device")
    names = [n.strip() for n in args.tasks.split(",") if n.strip()]
    started = time.monotonic()
    warm = warmup_job(args.device)
    jobs, skipped = make_jobs(args.folder, names, args.device)
    names = [n for n in names if n not in skipped]
    print(f"{len(jobs)} candidates written in {time.monotonic() - started:.1f} s", flush=True)
    rounds = []
    for workers in rounds_spec:
        result = asyncio.run(run_round(names, jobs, warm, workers, args.device))
        rounds.append(result)
        passed = sum(j["passed"] for j in result["jobs"])
        print(
            f"workers_per_device {workers}: {result['wall_s']:.1f} s, {passed}/{len(jobs)} "
            f"passed, GPU busy {result['gpu_busy_nvidia_smi']} (nvidia-smi) "
            f"{result['gpu_busy_estimate']} (breakdown), waits {result['wait_s']:.1f} s, "
            f"{result['exclusive_violations']} timed phases overlapped",
            flush=True,
        )
    report = {
        **environment(args.device),
        "tasks": names,
        "skipped": skipped,
        "rounds": rounds,
        "comparison": compare(rounds),
        "total_s": time.monotonic() - started,
    }
    for row in report["comparison"]:
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
