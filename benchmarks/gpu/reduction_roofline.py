"""Bandwidth of the built-in agent's reduction kernels against a plain copy and torch.compile
(issue 17): rows too long for one program (softmax, log-softmax, the norms), reductions
that keep the innermost dim (sum/mean/max/min/argmax/argmin over dim 1 of a 3-D tensor),
and the other memory-bound level-1 tasks that ran below compile (1-D max and average
pooling, the exclusive cumsum, with the plain cumsum as its yardstick), each at KernelBench
level 1's size and at one other size. Run from the repository root on the GPU machine:

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/reduction_roofline.py --out "$OUT"

Writes reduction_roofline.json (one record per task and size) and prints a markdown table.
Achieved bandwidth counts each input read once and each output written once; the copy's
is `x.clone()` of the task's largest input, two bytes moved per byte of it. The task
sources here are this file's own, written after KernelBench's (no KernelBench file is
needed). `--skip-compile` leaves torch.compile out (a quicker look at the kernels alone);
`--config N` times each candidate at entry N of its configuration list instead of the first,
and `--set KEY=VALUE` (repeatable) overrides one of its keys (`--set SPLIT_PROGRAMS=4096`:
group and layer norm's split kernels spread over four times as many programs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "gpu"))

from gpu_bench import (  # noqa: E402
    add_set_option,
    bench_ms,
    config_overrides,
    import_source,
    report,
)

from agents.builtin.reference import trace_reference  # noqa: E402
from agents.builtin.search import configs_for, search_space  # noqa: E402
from agents.builtin.stages import lower_graph  # noqa: E402

TASK = """
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self{init}):
        super().__init__()
        {body}

    def forward(self, x):
        return {expr}


def get_inputs():
    return [torch.randn{small}]


def get_init_inputs():
    return [{init_values}]
"""


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "long rows" | "inner dim" | "window" | "scan"
    expr: str
    small: tuple[int, ...]  # the shape traced (the lowering is generic in the sizes)
    shapes: tuple[tuple[int, ...], ...]  # KernelBench's size, then another
    init: str = ""
    body: str = "pass"
    init_values: str = ""

    def source(self, shape: tuple[int, ...]) -> str:
        """The task file; a norm over every dim but the first is built for the shape's, and a
        pool is traced at the shape itself (a max pool's output length is a traced constant)."""
        normalized = "{normalized}" in self.body
        small = (2, *shape[1:]) if normalized else self.small
        return TASK.format(
            expr=self.expr,
            small=shape if self.kind == "window" else small,
            init=f", {self.init}" if self.init else "",
            body=self.body.replace("{normalized}", repr(tuple(shape[1:]))),
            init_values=self.init_values,
        )


NCHW = ((112, 64, 512, 512), (16, 64, 384, 320))  # KernelBench 33-37's size, another


def _norm(name: str, module: str, shapes: tuple[tuple[int, ...], ...] = NCHW) -> Case:
    """A norm module over 64 channels (its normalized shape, if any, is the input's)."""
    return Case(
        name,
        "long rows",
        "self.norm(x)",
        (2, 64, 4, 5),
        shapes,
        init="features",
        body=f"self.norm = {module}",
        init_values="64",
    )


CASES = [
    Case(
        "softmax", "long rows", "torch.softmax(x, dim=1)", (4, 40), ((4096, 393216), (2048, 200000))
    ),
    Case(
        "log_softmax",
        "long rows",
        "torch.log_softmax(x, dim=1)",
        (4, 40),
        ((4096, 393216), (2048, 200000)),
    ),
    _norm("instance_norm", "nn.InstanceNorm2d(features)"),
    _norm("group_norm", "nn.GroupNorm(8, features)"),
    _norm("layer_norm", "nn.LayerNorm({normalized})", ((16, 64, 256, 256), (32, 64, 192, 160))),
    Case(
        "rms_norm",
        "long rows",
        "x / torch.sqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-5)",
        (2, 64, 4, 5),
        NCHW,
    ),
    Case(
        "frobenius_norm",
        "long rows",
        "x / torch.norm(x, p='fro')",
        (2, 64, 4, 5),
        NCHW,
    ),
    Case(
        "l1_norm",
        "long rows",
        "x / torch.mean(torch.abs(x), dim=1, keepdim=True)",
        (4, 40),
        ((32768, 65535), (8192, 100000)),
    ),
    Case(
        "l2_norm",
        "long rows",
        "x / torch.norm(x, p=2, dim=1, keepdim=True)",
        (4, 40),
        ((32768, 65535), (8192, 100000)),
    ),
    Case(
        "avg_pool1d",  # KernelBench 44: an odd output length (65537)
        "window",
        "self.pool(x)",
        (2, 3, 20),
        ((64, 128, 65536), (128, 64, 30000)),
        body="self.pool = nn.AvgPool1d(8, stride=1, padding=4)",
    ),
    Case(
        "max_pool1d",  # KernelBench 41
        "window",
        "self.pool(x)",
        (2, 3, 40),
        ((64, 192, 65536), (128, 64, 30000)),
        body="self.pool = nn.MaxPool1d(8, stride=1, padding=4, dilation=3)",
    ),
    Case(
        "cumsum",  # KernelBench 89, the yardstick of the exclusive one
        "scan",
        "torch.cumsum(x, dim=1)",
        (4, 40),
        ((32768, 32768), (8192, 100000)),
    ),
    Case(
        "cumsum_exclusive",  # KernelBench 92's form
        "scan",
        "torch.cat((torch.zeros_like(x.select(1, 0).unsqueeze(1)),"
        " torch.cumsum(x.narrow(1, 0, x.size(1) - 1), dim=1)), dim=1)",
        (4, 40),
        ((32768, 32768), (8192, 100000)),
    ),
    *(
        Case(name, "inner dim", expr, (2, 6, 5), ((128, 4096, 4095), (64, 2048, 8191)))
        for name, expr in (
            ("sum_dim1", "torch.sum(x, dim=1, keepdim=True)"),
            ("mean_dim1", "torch.mean(x, dim=1)"),
            ("max_dim1", "torch.max(x, dim=1)[0]"),
            ("min_dim1", "torch.min(x, dim=1)[0]"),
            ("argmax_dim1", "torch.argmax(x, dim=1)"),
            ("argmin_dim1", "torch.argmin(x, dim=1)"),
        )
    ),
]


def candidate_module(
    case: Case, shape: tuple[int, ...], folder: Path, index: int, overrides: dict[str, Any]
) -> Any:
    """The built-in agent's candidate for the case at entry `index` of its plan's
    configuration list (0: the default, the first step's), with `overrides` on its keys."""
    lowered = lower_graph(trace_reference(case.source(shape), "torch"))
    config = configs_for(search_space(lowered.plan))[index]
    code = lowered.render(case.name, {**config, **overrides}, False)
    return import_source(code, folder, case.name)


def reference_module(case: Case, shape: tuple[int, ...]) -> tuple[torch.nn.Module, list]:
    namespace: dict[str, Any] = {}
    exec(compile(case.source(shape), f"<{case.name}>", "exec"), namespace)
    init = namespace["get_init_inputs"]()
    return namespace["Model"](*init), init


def _bytes(tensors: list[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def run_case(
    case: Case,
    shape: tuple[int, ...],
    folder: Path,
    with_compile: bool,
    config: int,
    overrides: dict[str, Any],
) -> dict:
    torch.manual_seed(0)
    model, init = reference_module(case, shape)
    model = model.cuda().eval()
    module = candidate_module(case, shape, folder, config, overrides)
    candidate = module.ModelNew(*init)
    candidate.load_state_dict(model.state_dict(), strict=False)
    candidate = candidate.cuda().eval()
    x = torch.randn(shape, device="cuda")
    with torch.no_grad():
        expected = model(x)
        got = candidate(x)
        exact = not expected.dtype.is_floating_point
        error = (got.double() - expected.double()).abs().max().item()
        scale = expected.double().abs().max().item()
        ok = bool(torch.equal(got, expected)) if exact else error <= 1e-4 + 1e-4 * scale
        del got
        moved = _bytes([x]) + _bytes([expected])
        record: dict[str, Any] = {
            "task": case.name,
            "kind": case.kind,
            "shape": list(shape),
            "config": config,
            "overrides": overrides,
            "bytes_moved": moved,
            "matches_eager": ok,
            "max_abs_error": error,
        }
        record["copy_ms"] = bench_ms(lambda: x.clone())
        record["builtin_ms"] = bench_ms(lambda: candidate(x))
        record["eager_ms"] = bench_ms(lambda: model(x))
        if with_compile:
            compiled = torch.compile(model)
            compiled(x)
            record["compile_ms"] = bench_ms(lambda: compiled(x))
        copy_gbs = 2 * _bytes([x]) / record["copy_ms"] / 1e6
    builtin_gbs = moved / record["builtin_ms"] / 1e6
    record["copy_GBps"] = copy_gbs
    record["builtin_GBps"] = builtin_gbs
    record["builtin_of_copy"] = builtin_gbs / copy_gbs
    if "compile_ms" in record:
        record["speedup_vs_compile"] = record["compile_ms"] / record["builtin_ms"]
    return record


def table(records: list[dict]) -> str:
    head = "| task | shape | ok | builtin ms | GB/s | of copy | compile ms | vs compile | eager |"
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        compile_ms = f"{r['compile_ms']:.3f}" if "compile_ms" in r else "—"
        versus = f"{r['speedup_vs_compile']:.2f}x" if "speedup_vs_compile" in r else "—"
        lines.append(
            f"| {r['task']} | {'x'.join(map(str, r['shape']))} | {r['matches_eager']} | "
            f"{r['builtin_ms']:.3f} | {r['builtin_GBps']:.0f} | {r['builtin_of_copy']:.0%} | "
            f"{compile_ms} | {versus} | {r['eager_ms']:.3f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--only", nargs="*", default=None, help="task names to run")
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--first-size-only", action="store_true")
    parser.add_argument(
        "--config", type=int, default=0, help="entry of each plan's configuration list to time"
    )
    add_set_option(parser)
    args = parser.parse_args()
    overrides = config_overrides(args.set)
    if not torch.cuda.is_available():
        print("reduction_roofline.py needs a CUDA GPU", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for case in CASES:
            if args.only and case.name not in args.only:
                continue
            shapes = case.shapes[:1] if args.first_size_only else case.shapes
            for shape in shapes:
                with_compile = not args.skip_compile
                record = run_case(case, shape, Path(folder), with_compile, args.config, overrides)
                records.append(record)
                print(json.dumps(record), flush=True)
                torch.cuda.empty_cache()
                # rewritten after every case, so a run cut short keeps what it measured
                report_text = json.dumps(report(records, started), indent=2)
                (args.out / "reduction_roofline.json").write_text(report_text)
    print(table(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
