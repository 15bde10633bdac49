"""The built-in agent's convolutions against cuDNN (torch's own conv, TF32 off) on KernelBench
level 1's convolution tasks at their real sizes (issue 17: the goal is >= 0.9x of cuDNN).
Run from the repository root on the GPU machine, with a KernelBench checkout:

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/conv_builtin.py \
        --kernelbench /path/to/KernelBench/KernelBench/level1 --out "$OUT"

Each task file is traced and rendered by the agent exactly as `aikg` does (first launch
configuration by default; `--configs N` tries the first N of its list), built next to the
reference under one seed, run once to check it (the verifier's fp32 tolerance against torch,
and the largest error against a float64 convolution where the output has at most 4M
elements: cuDNN's float64 convolutions are slow), then timed with triton.testing.do_bench
against the reference module. Writes conv_builtin.json (one record per task and
configuration: the kernel launched, ms, cuDNN ms, speedup, errors) and conv_builtin.md (the
best verified configuration per task, and the geometric mean over tasks of each of the first
N configurations alone), and prints the table. On one H200 the first configuration of the
list as it was then ran all 35 tasks in about 3 minutes (geometric mean 0.45x of cuDNN);
`--configs 4` times the fp32 list's first four, `--pick 0,3` the first and the fourth.
`--tasks 50,82` picks tasks by number; `--set fp32_dot=tf32` overrides a configuration key;
`--cudnn-tf32` times cuDNN with torch's default TF32 convolutions (the verifier's eager
baseline) instead of TF32 off. The forms for strided transposed convolutions and 48-channel
groups (conv_configs.py: all of them in configuration 0, one at a time in 10-14): `--pick
1,10,11,12,13,0 --tasks 72,73,75,77,79,81,61,70`. The row-tiled depthwise kernel's two tiles
(configurations 16 and 17, depthwise_writer.py): `--pick 0,16,17 --tasks 82,84,85,86,83`.
`--device cpu` runs it in the interpreter, to check this script itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "gpu"))

from gpu_bench import add_set_option, config_overrides, import_source  # noqa: E402

from agents.builtin.reference import trace_reference  # noqa: E402
from agents.builtin.search import configs_for, search_space  # noqa: E402
from agents.builtin.stages import lower_graph  # noqa: E402

CONV_TASKS = [50, *range(54, 88)]
ATOL = RTOL = 1e-4  # the verifier's fp32 tolerance
TRUTH_LIMIT = 1 << 22  # outputs up to this many elements get a float64 reference (slow)


class LaunchRecorder:
    """Wraps a generated kernel: records its name when launched, then launches it."""

    def __init__(self, name: str, kernel: Any, launched: list[str]) -> None:
        self.name, self.kernel, self.launched = name, kernel, launched

    def __getitem__(self, grid: Any) -> Any:
        self.launched.append(self.name)
        return self.kernel[grid]


def bench_ms(fn: Any, device: str) -> float:
    if device == "cpu":  # the interpreter: one timed call, a check of the script only
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1e3
    from triton.testing import do_bench

    return float(do_bench(fn, warmup=5, rep=40))


def run_task(
    path: Path, picks: list[int], folder: Path, device: str, overrides: dict[str, Any]
) -> list[dict[str, Any]]:
    source = path.read_text()
    reference = import_source(source, folder, f"ref_{path.stem[:3].strip('_')}")
    lowered = lower_graph(trace_reference(source, "torch"))
    space = search_space(lowered.plan)
    init = reference.get_init_inputs()
    torch.manual_seed(0)
    model = reference.Model(*init).to(device).eval()
    torch.manual_seed(1)
    inputs = [v.to(device) if isinstance(v, torch.Tensor) else v for v in reference.get_inputs()]
    with torch.no_grad():
        expected = model(*inputs)
        truth = None
        if expected.numel() <= TRUTH_LIMIT:
            truth = model.double()(*[v.double() for v in inputs])
            model.float()
        cudnn_ms = bench_ms(lambda: model(*inputs), device)
    records = []
    for index in [i for i in picks if i < len(configs_for(space))]:
        config = {**configs_for(space)[index], **overrides}
        code = lowered.render(path.stem, dict(config), device == "cpu")
        candidate_module = import_source(code, folder, f"cand_{path.stem[:3].strip('_')}_{index}")
        launched: list[str] = []
        for name in [n for n in dir(candidate_module) if n.endswith("_kernel")]:
            kernel = getattr(candidate_module, name)
            setattr(candidate_module, name, LaunchRecorder(name, kernel, launched))
        torch.manual_seed(0)
        candidate = candidate_module.ModelNew(*init)
        candidate.load_state_dict(model.state_dict(), strict=False)
        candidate = candidate.to(device).eval()
        started = time.time()
        with torch.no_grad():
            got = candidate(*inputs)
            if device == "cuda":
                torch.cuda.synchronize()
            compile_s = time.time() - started
            diff = (got - expected).abs()
            record = {
                "task": path.name,
                "space": space,
                "config_index": index,
                "overrides": overrides,
                "config": config,
                "kernel": launched[0] if launched else None,
                "first_call_s": round(compile_s, 2),
                "passes_verifier_fp32": bool((diff <= ATOL + RTOL * expected.abs()).all()),
                "max_abs_diff_vs_torch": diff.max().item(),
            }
            if truth is not None:
                record["max_abs_error_vs_fp64"] = (got.double() - truth).abs().max().item()
                record["torch_max_abs_error_vs_fp64"] = (
                    (expected.double() - truth).abs().max().item()
                )
            del got, diff
            record["builtin_ms"] = bench_ms(lambda c=candidate: c(*inputs), device)
        record["cudnn_ms"] = cudnn_ms
        record["speedup_vs_cudnn"] = cudnn_ms / record["builtin_ms"]
        records.append(record)
        print(json.dumps(record), flush=True)
    if device == "cuda":
        torch.cuda.empty_cache()
    return records


def table(records: list[dict[str, Any]]) -> str:
    best: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("passes_verifier_fp32") and (
            r["task"] not in best or r["builtin_ms"] < best[r["task"]]["builtin_ms"]
        ):
            best[r["task"]] = r
    lines = [
        "| task | kernel | config | builtin ms | cuDNN ms | vs cuDNN |",
        "|---|---|---|---|---|---|",
    ]
    for task in sorted({r["task"] for r in records}):
        r = best.get(task)
        if r is None:
            error = next((e["error"] for e in records if e["task"] == task and "error" in e), "")
            lines.append(f"| {task} | {error or 'not verified'} | | | | |")
            continue
        lines.append(
            f"| {task} | {r['kernel']} | {r['config_index']} | {r['builtin_ms']:.3f} | "
            f"{r['cudnn_ms']:.3f} | {r['speedup_vs_cudnn']:.2f}x |"
        )
    ratios = [r["speedup_vs_cudnn"] for r in best.values()]
    if ratios:
        lines.append(
            f"\nGeometric mean vs cuDNN over {len(ratios)} verified tasks: {_geomean(ratios):.2f}x"
        )
    for index in sorted({r["config_index"] for r in records if "config_index" in r}):
        alone = [
            r["speedup_vs_cudnn"]
            for r in records
            if r.get("config_index") == index and r.get("passes_verifier_fp32")
        ]
        geomean = _geomean(alone)
        lines.append(f"- configuration {index} alone: {geomean:.2f}x over {len(alone)} verified")
    return "\n".join(lines)


def _geomean(ratios: list[float]) -> float:
    return float(torch.tensor(ratios).log().mean().exp()) if ratios else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernelbench", type=Path, required=True, help="KernelBench's level1")
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--configs", type=int, default=1, help="the first N configurations")
    parser.add_argument(
        "--pick", default="", help="configuration indices, e.g. 0,3 (instead of --configs)"
    )
    parser.add_argument("--tasks", default="", help="task numbers, e.g. 50,82 (default: all)")
    parser.add_argument(
        "--device", default="cuda", help="cpu: the interpreter, to check this script"
    )
    add_set_option(parser)
    parser.add_argument(
        "--cudnn-tf32",
        action="store_true",
        help="leave cuDNN's TF32 at torch's default (on), as the verifier's and KernelBench's "
        "eager baseline runs it, instead of off",
    )
    args = parser.parse_args()
    overrides = config_overrides(args.set)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("conv_builtin.py needs a CUDA GPU; run it on the GPU machine")
    if not args.kernelbench.is_dir():
        raise SystemExit(f"no KernelBench level1 folder at {args.kernelbench}; pass --kernelbench")
    # cuDNN's fp32 convolutions with TF32 off (IEEE products); torch's default, which the
    # verifier's eager baseline and KernelBench keep, is TF32 on (--cudnn-tf32)
    torch.backends.cudnn.allow_tf32 = args.cudnn_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    numbers = [int(t) for t in args.tasks.split(",") if t] or CONV_TASKS
    picks = [int(i) for i in args.pick.split(",") if i] or list(range(args.configs))
    paths = [p for n in numbers for p in sorted(args.kernelbench.glob(f"{n}_*.py"))]
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for path in paths:
            try:
                records += run_task(path, picks, Path(folder), args.device, overrides)
            except Exception as exc:  # one task's failure is a row, not the end of the run
                message = (
                    f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                )
                records.append({"task": path.name, "error": message})
                print(json.dumps(records[-1]), flush=True)
                if args.device == "cuda":
                    torch.cuda.empty_cache()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "conv_builtin.json").write_text(json.dumps(records, indent=1))
    report = table(records)
    (args.out / "conv_builtin.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
