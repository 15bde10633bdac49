"""The built-in agent's fp32 matmul against torch.matmul with TF32 off (issue 17): every
configuration of its fp32 search list as the agent renders it (each names its precision:
`input_precision="tf32x3"`, three TF32 tensor-core products per step, or `"ieee"`, fp32
FMAs), at 4096^3 and two KernelBench shapes (irregular, and large K with few output tiles),
and two probes of the irregular shape (the first two configurations only): its sizes
rounded up to multiples of 16 (the kernel at aligned sizes), and its own sizes with the
aligned operand copies turned off (`ALIGN_MIN_REUSE` out of reach: rows of 2949 and 5921
floats, every load a 4-byte copy on sm_90). Run from the repository root on the GPU machine:

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/matmul_fp32.py --out "$OUT"

Writes matmul_fp32.json (one record per shape and launch configuration) and prints a
markdown table. Each record has the time (triton.testing.do_bench, median ms), TFLOP/s,
the largest error against a float64 product of the same inputs (absolute, and relative to
the largest |value|), torch's own fp32 error for comparison, and whether the kernel passes
the verifier's fp32 check against torch (|d| <= 1e-4 + 1e-4 |ref|). About 2 minutes on
one H200; `--first-config-only` is quicker.
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

from gpu_bench import bench_ms, import_source, report  # noqa: E402

from agents.builtin.reference import trace_reference  # noqa: E402
from agents.builtin.search import MATMUL_FP32_CONFIGS  # noqa: E402
from agents.builtin.stages import lower_graph  # noqa: E402

TASK = """
import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, a, b):
        return torch.matmul(a, b)


def get_inputs():
    return [torch.rand(24, 40), torch.rand(40, 32)]


def get_init_inputs():
    return []
"""
SHAPES = {  # (M, K, N)
    "square_4096": (4096, 4096, 4096),
    "irregular_kb8": (8205, 2949, 5921),
    "large_k_kb6": (256, 524288, 256),
}
# the irregular shape's probes: (M, K, N), configuration keys set, configurations tried
PROBES = {
    "irregular_rounded_to_16": ((8208, 2960, 5936), {}, 2),
    "irregular_no_aligned_copies": ((8205, 2949, 5921), {"ALIGN_MIN_REUSE": 1 << 62}, 2),
}
ATOL = RTOL = 1e-4  # the verifier's fp32 tolerance


def candidate_module(config: dict[str, Any], folder: Path) -> Any:
    lowered = lower_graph(trace_reference(TASK, "torch"))
    code = lowered.render("matmul_fp32", dict(config), False)
    precision = config.get("fp32_dot", "tf32x3")
    if f"input_precision={precision!r}" not in code:
        raise SystemExit(f"the rendered fp32 matmul does not say input_precision={precision!r}")
    return import_source(code, folder, "matmul").ModelNew()


def errors(got: torch.Tensor, truth: torch.Tensor, torch_out: torch.Tensor) -> dict[str, Any]:
    diff = (got.double() - truth).abs()
    scale = truth.abs().max().item()
    verifier_ok = bool(((got - torch_out).abs() <= ATOL + RTOL * torch_out.abs()).all().item())
    return {
        "max_abs_error_vs_fp64": diff.max().item(),
        "max_rel_error_vs_fp64": diff.max().item() / scale,
        "passes_verifier_fp32": verifier_ok,
    }


def run_shape(name: str, shape: tuple[int, int, int], configs: list, folder: Path) -> list:
    m, k, n = shape
    torch.manual_seed(0)
    a = torch.rand(m, k, device="cuda")
    b = torch.rand(k, n, device="cuda")
    flops = 2 * m * n * k
    torch.backends.cuda.matmul.allow_tf32 = False
    torch_out = torch.matmul(a, b)
    truth = torch.matmul(a.double(), b.double())
    torch_ms = bench_ms(lambda: torch.matmul(a, b))
    base = {"shape": name, "m": m, "k": k, "n": n, "torch_ms": torch_ms}
    base["torch_tflops"] = flops / torch_ms / 1e9
    torch_errors = errors(torch_out, truth, torch_out)
    base["torch_max_abs_error_vs_fp64"] = torch_errors["max_abs_error_vs_fp64"]
    base["torch_max_rel_error_vs_fp64"] = torch_errors["max_rel_error_vs_fp64"]
    records = []
    for index, config in enumerate(configs):
        model = candidate_module(config, folder)
        got = model(a, b)
        precision = config.get("fp32_dot", "tf32x3")
        record = {**base, "precision": precision, "config_index": index, "config": config}
        record |= errors(got, truth, torch_out)
        del got
        record["builtin_ms"] = bench_ms(lambda model=model: model(a, b))
        record["builtin_tflops"] = flops / record["builtin_ms"] / 1e9
        record["speedup_vs_torch"] = torch_ms / record["builtin_ms"]
        records.append(record)
        print(json.dumps(record), flush=True)
    del truth
    torch.cuda.empty_cache()
    return records


def table(records: list[dict]) -> str:
    best: dict[tuple[str, str], dict] = {}
    for r in records:
        key = (r["shape"], r["precision"])
        if r["passes_verifier_fp32"] and (
            key not in best or r["builtin_ms"] < best[key]["builtin_ms"]
        ):
            best[key] = r
    head = (
        "| shape | precision | best config | ms | TFLOP/s | vs torch fp32 | "
        "max rel err vs fp64 | torch's |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for (shape, precision), r in sorted(best.items()):
        lines.append(
            f"| {shape} | {precision} | {r['config_index']} | {r['builtin_ms']:.3f} | "
            f"{r['builtin_tflops']:.1f} | {r['speedup_vs_torch']:.2f}x | "
            f"{r['max_rel_error_vs_fp64']:.2e} | {r['torch_max_rel_error_vs_fp64']:.2e} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--only", nargs="*", default=None, help="shape names to run")
    parser.add_argument("--first-config-only", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("matmul_fp32.py needs a CUDA GPU", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    configs = MATMUL_FP32_CONFIGS[:1] if args.first_config_only else MATMUL_FP32_CONFIGS
    records: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for name, shape in SHAPES.items():
            if args.only is None or name in args.only:
                records += run_shape(name, shape, configs, Path(folder))
        for name, (shape, keys, tried) in PROBES.items():
            if args.only is None or name in args.only:
                probed = [{**config, **keys} for config in configs[:tried]]
                records += run_shape(name, shape, probed, Path(folder))
    (args.out / "matmul_fp32.json").write_text(json.dumps(report(records, started), indent=2))
    print(table(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
