"""An exported op in a model on a GPU (issue 18, docs/export.md, docs/benchmarks.md): a
kernel for an MLP block's epilogue is verified by `aikg run` (the built-in agent, profile
mode), exported with `aikg export --as op`, and the MLP block is timed with and without it,
eagerly, under torch.compile and under torch.compile with CUDA graphs. Run from the
repository root on the GPU machine:

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/op_export.py [--out DIR]

Prints a markdown table (and writes it, the op module and the run's JSON to --out).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]

# The epilogue of a Linear without bias: y = gelu(x + bias) * scale (tanh GELU), which
# eager PyTorch runs as four kernels and the exported op as one.
TASK = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, hidden: int, scale: float) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.randn(hidden))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(x + self.bias, approximate="tanh") * self.scale


ROWS, HIDDEN = 8192, 4096


def get_inputs():
    return [torch.randn(ROWS, HIDDEN)]


def get_input_variants():
    return [[torch.randn(ROWS // 2, HIDDEN)], [torch.randn(ROWS * 2, HIDDEN)]]


def get_init_inputs():
    return [HIDDEN, 0.5]
"""


class Block(torch.nn.Module):
    """Linear (no bias) -> epilogue -> Linear: the epilogue is the reference or the op."""

    def __init__(self, epilogue: torch.nn.Module, hidden: int) -> None:
        super().__init__()
        self.up = torch.nn.Linear(hidden, hidden, bias=False)
        self.epilogue = epilogue
        self.down = torch.nn.Linear(hidden, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.epilogue(self.up(x)))


def aikg(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "aikg", *args], cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"aikg {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def median_ms(fn: Callable[[], torch.Tensor], repeats: int = 50) -> float:
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the table and files")
    parser.add_argument("--limit-steps", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aikg-op-export-"))
    os.environ["AIKG_DB"] = str(work / "events.db")
    (work / "gelu_epilogue.py").write_text(TASK)
    run = json.loads(
        aikg(
            "run", "gelu_epilogue.py", "--backend", "cuda", "--llm", "builtin", "--task-type",
            "profile", "--limit-steps", str(args.limit_steps), "--task-id", "gelu-epilogue",
            "--json", "-q", cwd=work,
        )
    )  # fmt: skip
    print(f"aikg run: {run['status']}, {run.get('speedup_vs_eager')}x vs eager, "
          f"{run.get('speedup_vs_compile')}x vs torch.compile")  # fmt: skip
    op_file = work / "gelu_epilogue_op.py"
    aikg("export", "gelu-epilogue", "--as", "op", "-o", str(op_file), cwd=work)
    spec = importlib.util.spec_from_file_location("gelu_epilogue_op", op_file)
    assert spec is not None and spec.loader is not None
    ops = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = ops
    spec.loader.exec_module(ops)
    task: dict = {}
    exec(TASK, task)

    hidden, rows = 4096, 8192
    torch.manual_seed(0)
    reference = task["Model"](hidden, 0.5)
    with_op = ops.GeluEpilogue(hidden, 0.5)
    with_op.load_state_dict(reference.state_dict())
    plain = Block(reference, hidden).cuda().eval()
    fused = Block(with_op, hidden).cuda().eval()
    fused.load_state_dict(plain.state_dict())
    x = torch.randn(rows, hidden, device="cuda")
    rows_out = []
    with torch.no_grad():
        torch.testing.assert_close(fused(x), plain(x), rtol=1e-3, atol=1e-3)
        for mode, make in (
            ("eager", lambda m: m),
            ("torch.compile", lambda m: torch.compile(m, fullgraph=True)),
            ("torch.compile + CUDA graphs", lambda m: torch.compile(m, mode="reduce-overhead")),
        ):
            timed = []
            for block in (plain, fused):
                torch._dynamo.reset()
                run_block = make(block)
                timed.append(median_ms(lambda run_block=run_block: run_block(x)))
            rows_out.append((mode, *timed))
    table = [
        f"MLP block Linear({hidden}) -> gelu(x + bias) * 0.5 -> Linear({hidden}), "
        f"x [{rows}, {hidden}] float32, {torch.cuda.get_device_name()}, torch "
        f"{torch.__version__}",
        "",
        "| mode | without the op (ms) | with the op (ms) | speedup |",
        "|---|---:|---:|---:|",
        *(f"| {m} | {a:.3f} | {b:.3f} | {a / b:.2f}x |" for m, a, b in rows_out),
    ]
    print("\n".join(table))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "op_export.md").write_text("\n".join(table) + "\n")
        (args.out / "run.json").write_text(json.dumps(run, indent=2))
        (args.out / op_file.name).write_text(op_file.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
