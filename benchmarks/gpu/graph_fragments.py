"""Model fragments that need more than one fused kernel (issue 22), rendered by the built-in
agent and timed against eager torch and torch.compile at realistic sizes:

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/graph_fragments.py --out "$OUT"

Fragments: an MLP block (two linears, GELU between: two matmul stages), GEMM -> logsumexp
and matmul -> row norm (one kernel holding the product's rows), GEMM -> group norm ->
hardtanh (two stages), and attention at sequence 1k and 4k (one flash-attention kernel;
fp16, causal, written out, fp32, and KernelBench level 1 task 97's sizes).

Each fragment is a task file traced and rendered as `aikg` does (first configuration),
built next to its reference under one seed, checked once (largest error against eager),
then timed with triton.testing.do_bench (median): the candidate, eager, torch.compile, and
for multi-kernel fragments the same stages run separately (a candidate per stage, called
one after the other) and, where the product's rows fit one kernel, the two-stage path of
the same candidate. Writes graph_fragments.json (a record per fragment) and prints a
markdown table. About 3 minutes on one H200 (compiling is most of it).
`--configs N` also times the candidate with each of its first N launch configurations (the
list the agent's profile search walks: attention_configs.py for the attention fragments),
recording each one's time and error under "configs" and the fastest as best_ms/best_config
(a column of the table); with `--configs 6` about 4 minutes.
`--device cpu --small` runs tiny sizes in the Triton interpreter: a check of the script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "gpu"))

import gpu_bench  # noqa: E402
from gpu_bench import import_source  # noqa: E402

from tests.agents.builtin.builtin_harness import task  # noqa: E402  (the tests' task files)


@dataclass
class Fragment:
    name: str
    expr: str
    inputs: str  # get_inputs' list, with {n} placeholders for sizes
    full: dict[str, int]  # sizes on the GPU
    small: dict[str, int]  # sizes in the interpreter
    body: str = "pass"
    args: str = "x"
    # the stages as tasks of their own: (expr, body, args, input shapes "m k|k n")
    parts: list[tuple[str, str, str, str]] = field(default_factory=list)

    def source(self, sizes: dict[str, int]) -> str:
        return task(
            self.expr.format(**sizes),
            inputs=self.inputs.format(**sizes),
            args=self.args,
            body=self.body.format(**sizes),
        )


H16 = "dtype=torch.float16"
QKV = ", ".join(f"torch.randn({{b}}, {{h}}, {{s}}, {{d}}, {H16})" for _ in range(3))
FC1 = f"self.fc1 = nn.Linear({{k}}, {{n}}, {H16})"
PROJ = f"self.proj = nn.Linear({{hd}}, {{hd}}, {H16})"
GN = f"self.gn = nn.GroupNorm(32, {{n}}, {H16})"
QKV32 = ", ".join("torch.randn({b}, {h}, {s}, {d})" for _ in range(3))
FRAGMENTS = [
    Fragment(
        "mlp_block_fp16",
        "self.fc2(F.gelu(self.fc1(x)))",
        f"torch.randn({{m}}, {{k}}, {H16})",
        {"m": 8192, "k": 4096, "n": 16384},
        {"m": 16, "k": 32, "n": 64},
        body=f"{FC1}; self.fc2 = nn.Linear({{n}}, {{k}}, {H16})",
        parts=[
            ("F.gelu(self.fc1(x))", FC1, "x", "m k"),
            ("self.fc2(x)", f"self.fc2 = nn.Linear({{n}}, {{k}}, {H16})", "x", "m n"),
        ],
    ),
    Fragment(
        "gemm_logsumexp_fp16",
        "torch.logsumexp(self.fc(x), dim=1, keepdim=True)",
        f"torch.randn({{m}}, {{k}}, {H16})",
        {"m": 16384, "k": 1024, "n": 512},
        {"m": 16, "k": 32, "n": 48},
        body=f"self.fc = nn.Linear({{k}}, {{n}}, {H16})",
        parts=[
            ("self.fc(x)", f"self.fc = nn.Linear({{k}}, {{n}}, {H16})", "x", "m k"),
            ("torch.logsumexp(x, dim=1, keepdim=True)", "pass", "x", "m n"),
        ],
    ),
    Fragment(
        "matmul_row_norm_fp32",
        "F.normalize(x @ y, dim=1)",
        "torch.randn({m}, {k}), torch.randn({k}, {n})",
        {"m": 16384, "k": 2048, "n": 256},
        {"m": 16, "k": 32, "n": 40},
        args="x, y",
        parts=[
            ("x @ y", "pass", "x, y", "m k|k n"),
            ("F.normalize(x, dim=1)", "pass", "x", "m n"),
        ],
    ),
    Fragment(
        "gemm_group_norm_hardtanh_fp16",
        "F.hardtanh(self.gn(self.fc(x)), -2.0, 2.0)",
        f"torch.randn({{m}}, {{k}}, {H16})",
        {"m": 8192, "k": 4096, "n": 4096},
        {"m": 16, "k": 32, "n": 64},
        body=f"self.fc = nn.Linear({{k}}, {{n}}, {H16}); {GN}",
        parts=[
            ("self.fc(x)", f"self.fc = nn.Linear({{k}}, {{n}}, {H16})", "x", "m k"),
            (
                "F.hardtanh(self.gn(x), -2.0, 2.0)",
                GN,
                "x",
                "m n",
            ),
        ],
    ),
    Fragment(
        "sdpa_1k_fp16",
        "F.scaled_dot_product_attention(q, k, v)",
        QKV,
        {"b": 4, "h": 16, "s": 1024, "d": 64},
        {"b": 1, "h": 2, "s": 40, "d": 16},
        args="q, k, v",
    ),
    Fragment(  # a transformer's attention output: heads merged, then the projection
        "sdpa_then_projection_1k_fp16",
        "self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2)"
        ".reshape({b}, {s}, {hd}))",
        QKV,
        {"b": 4, "h": 16, "s": 1024, "d": 64, "hd": 1024},
        {"b": 1, "h": 2, "s": 40, "d": 16, "hd": 32},
        body=PROJ,
        args="q, k, v",
        parts=[
            (
                "F.scaled_dot_product_attention(q, k, v)",
                "pass",
                "q, k, v",
                "b h s d|b h s d|b h s d",
            ),
            ("self.proj(x.transpose(1, 2).reshape({b}, {s}, {hd}))", PROJ, "x", "b h s d"),
        ],
    ),
    Fragment(
        "sdpa_4k_causal_fp16",
        "F.scaled_dot_product_attention(q, k, v, is_causal=True)",
        QKV,
        {"b": 2, "h": 16, "s": 4096, "d": 128},
        {"b": 1, "h": 2, "s": 40, "d": 32},
        args="q, k, v",
    ),
    Fragment(
        "attention_written_out_4k_fp16",
        "torch.softmax(q @ k.transpose(-2, -1) * 0.125, dim=-1) @ v",
        QKV,
        {"b": 2, "h": 16, "s": 4096, "d": 64},
        {"b": 1, "h": 2, "s": 40, "d": 16},
        args="q, k, v",
    ),
    Fragment(
        "sdpa_1k_fp32",
        "F.scaled_dot_product_attention(q, k, v)",
        QKV32,
        {"b": 4, "h": 16, "s": 1024, "d": 64},
        {"b": 1, "h": 2, "s": 40, "d": 16},
        args="q, k, v",
    ),
    Fragment(  # KernelBench level 1 task 97's sizes (torch.rand inputs there)
        "kernelbench_97_sdpa_fp32",
        "F.scaled_dot_product_attention(q, k, v)",
        QKV32,
        {"b": 32, "h": 32, "s": 512, "d": 1024},
        {"b": 1, "h": 1, "s": 24, "d": 288},  # past the flash kernel: the wide heads' path
        args="q, k, v",
    ),
]


def bench_ms(fn: Callable[[], Any], device: str) -> float:
    if device == "cpu":  # the interpreter: one timed call, a check of the script only
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1e3
    return gpu_bench.bench_ms(fn)


def launch_configs(lowered: Any) -> list[dict[str, Any]]:
    """The configurations the agent's search walks for this candidate, first the default."""
    from agents.builtin.search import configs_for, search_space

    return [dict(c) for c in configs_for(search_space(lowered.plan))]


def candidate_source(source: str, interpreter: bool, index: int = 0) -> tuple[str, Any]:
    """The candidate `aikg` renders, with its `index`-th launch configuration."""
    from agents.builtin.reference import trace_reference
    from agents.builtin.stages import lower_graph

    lowered = lower_graph(trace_reference(source, "torch"))
    return lowered.render("fragment", launch_configs(lowered)[index], interpreter), lowered


def build(source: str, code: str, folder: Path, stem: str, device: str) -> tuple[Any, Any, list]:
    """(reference model, candidate model, inputs) under one seed."""
    reference = import_source(source, folder, f"ref_{stem}")
    candidate = import_source(code, folder, f"new_{stem}")
    torch.manual_seed(0)
    model = reference.Model().to(device).eval()
    torch.manual_seed(0)
    new = candidate.ModelNew().to(device).eval()
    new.load_state_dict(model.state_dict(), strict=False)
    torch.manual_seed(1)
    inputs = [x.to(device) for x in reference.get_inputs()]
    return model, new, inputs


def part_source(part: tuple[str, str, str, str], sizes: dict[str, int], dtype: str) -> str:
    expr, body, args, shapes = part
    inputs = ", ".join(
        f"torch.randn({', '.join(str(sizes[d]) for d in shape.split())}{dtype})"
        for shape in shapes.split("|")
    )
    return task(expr.format(**sizes), inputs=inputs, args=args, body=body.format(**sizes))


def other_configs(
    source: str, lowered: Any, count: int, folder: Path, device: str, model: Any, inputs: list
) -> list[dict[str, Any]]:
    """The candidate with its 2nd..count-th configurations: each one's time and error."""
    expected = model(*inputs)
    timed = []
    configs = launch_configs(lowered)
    for index in range(1, min(count, len(configs))):
        record: dict[str, Any] = {"index": index, "config": configs[index]}
        try:
            code, _ = candidate_source(source, device == "cpu", index)
            _, new, _ = build(source, code, folder, f"config{index}", device)
            new.load_state_dict(model.state_dict(), strict=False)
            got = new(*inputs)
            record["max_abs_error"] = float((got.float() - expected.float()).abs().max())
            record["ms"] = bench_ms(lambda new=new: new(*inputs), device)
        except Exception as exc:  # a configuration past the device's resources
            record["error"] = f"{type(exc).__name__}: {exc}"[:200]
        timed.append(record)
    return timed


def run(
    fragment: Fragment, small: bool, folder: Path, device: str, configs: int = 1
) -> dict[str, Any]:
    sizes = fragment.small if small else fragment.full
    source = fragment.source(sizes)
    interpreter = device == "cpu"
    code, lowered = candidate_source(source, interpreter)
    model, new, inputs = build(source, code, folder, fragment.name, device)
    with torch.no_grad():
        expected = model(*inputs)
        got = new(*inputs)
        record: dict[str, Any] = {
            "fragment": fragment.name,
            "sizes": sizes,
            "dtype": str(inputs[0].dtype),
            "lowered": type(lowered).__name__,
            "kernels": len(lowered.stages),
            "max_abs_error": float((got.float() - expected.float()).abs().max()),
            "builtin_ms": bench_ms(lambda: new(*inputs), device),
            "eager_ms": bench_ms(lambda: model(*inputs), device),
        }
        if device != "cpu":
            compiled = torch.compile(model)
            compiled(*inputs)
            record["compile_ms"] = bench_ms(lambda: compiled(*inputs), device)
        if configs > 1:
            first = {"index": 0, "config": launch_configs(lowered)[0]}
            first |= {"max_abs_error": record["max_abs_error"], "ms": record["builtin_ms"]}
            tried = [first, *other_configs(source, lowered, configs, folder, device, model, inputs)]
            record["configs"] = tried
            best = min((c for c in tried if "ms" in c), key=lambda c: c["ms"])
            record["best_config"], record["best_ms"] = best["index"], best["ms"]
        if type(lowered).__name__ == "MatmulRows":  # the same candidate's two-stage path
            from agents.builtin.matmul_rows import ROW_TILE

            staged = code.replace(f"<= {ROW_TILE}:", "<= 0:")
            _, two, _ = build(source, staged, folder, fragment.name + "_staged", device)
            two.load_state_dict(model.state_dict(), strict=False)
            record["two_stage_ms"] = bench_ms(lambda: two(*inputs), device)
        if fragment.parts:
            try:
                record["separate_ms"] = separate_ms(fragment, sizes, folder, device, inputs)
            except Exception as exc:  # a stage alone may not lower: the rest still counts
                record["separate_error"] = f"{type(exc).__name__}: {exc}"[:200]
    for key in ("eager_ms", "compile_ms", "separate_ms", "two_stage_ms"):
        if key in record:
            record[f"speedup_vs_{key[:-3]}"] = record[key] / record["builtin_ms"]
            if "best_ms" in record:
                record[f"best_speedup_vs_{key[:-3]}"] = record[key] / record["best_ms"]
    return record


def separate_ms(
    fragment: Fragment, sizes: dict[str, int], folder: Path, device: str, inputs: list
) -> float:
    """The fragment's stages as separate candidates, each a task of its own, in sequence."""
    dtype = f", {H16}" if inputs[0].dtype == torch.float16 else ""
    models = []
    for i, part in enumerate(fragment.parts):
        source = part_source(part, sizes, dtype)
        code, _ = candidate_source(source, device == "cpu")
        _, new, _ = build(source, code, folder, f"{fragment.name}_part{i}", device)
        models.append(new)

    def chained() -> Any:
        value = models[0](*inputs)
        for model in models[1:]:
            value = model(value)
        return value

    return bench_ms(chained, device)


def table(records: list[dict[str, Any]]) -> str:
    lines = [
        "| fragment | kernels | builtin ms | eager ms | compile ms | separate ms | two-stage ms | "
        "vs eager | vs compile | max abs err | best config ms (index) | best vs eager |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        if "error" in r:
            lines.append(f"| {r['fragment']} | error: {r['error']} |")
            continue
        cells = [r.get(k) for k in ("builtin_ms", "eager_ms", "compile_ms", "separate_ms")]
        cells.append(r.get("two_stage_ms"))
        text = ["-" if c is None else f"{c:.3f}" for c in cells]
        ratios = [r.get("speedup_vs_eager"), r.get("speedup_vs_compile")]
        text += ["-" if c is None else f"{c:.2f}x" for c in ratios]
        best = ["-", "-"]
        if "best_ms" in r:
            best = [
                f"{r['best_ms']:.3f} ({r['best_config']})",
                f"{r['best_speedup_vs_eager']:.2f}x",
            ]
        lines.append(
            f"| {r['fragment']} | {r['kernels']} ({r['lowered']}) | {' | '.join(text)} | "
            f"{r['max_abs_error']:.2e} | {' | '.join(best)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--small", action="store_true", help="tiny sizes (the interpreter)")
    parser.add_argument("--only", default="", help="comma-separated fragment names")
    parser.add_argument(
        "--configs",
        type=int,
        default=1,
        help="time the builtin candidate with each of its first N launch configurations",
    )
    args = parser.parse_args()
    if args.device == "cpu":
        os.environ["TRITON_INTERPRET"] = "1"  # before the candidates import triton
    chosen = [f for f in FRAGMENTS if not args.only or f.name in args.only.split(",")]
    records = []
    started_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for fragment in chosen:
            started = time.perf_counter()
            try:
                record = run(fragment, args.small, Path(tmp), args.device, args.configs)
            except Exception as exc:  # one fragment's failure is recorded, the rest run
                record = {"fragment": fragment.name, "error": f"{type(exc).__name__}: {exc}"[:300]}
            record["wall_s"] = round(time.perf_counter() - started, 1)
            print(json.dumps(record), flush=True)
            records.append(record)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.device == "cpu":
        report = {"device": "cpu (interpreter)", "torch": torch.__version__, "records": records}
    else:
        report = gpu_bench.report(records, started_all)
    (args.out / "graph_fragments.json").write_text(json.dumps(report, indent=1))
    print(table(records))


if __name__ == "__main__":
    main()
