"""Per-candidate overhead of the warm worker against one-shot spawning.

Verifies 20 small swish candidates (different block sizes) on the CPU (Triton interpreter)
with ``Verifier(mode="warm")`` and with ``Verifier(mode="oneshot")`` and prints the time
per candidate in each mode and their ratio (target: one-shot / warm >= 3).

    python benchmarks/verifier_overhead.py [--n 20] [--sandbox auto|landlock|off] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verifier import Verifier, VerifyJob

REFERENCE = """
import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


def get_inputs():
    return [torch.randn(2, 64)]


def get_init_inputs():
    return [1.25]
"""

CANDIDATE = """
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def swish_kernel(x_ptr, out_ptr, n, beta, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x * tl.sigmoid(beta * x), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        swish_kernel[(triton.cdiv(n, {block}),)](x, out, n, self.beta, BLOCK={block})
        return out
"""


def candidates(n: int) -> list[VerifyJob]:
    blocks = [16, 32, 64, 128]
    return [
        VerifyJob(REFERENCE, CANDIDATE.format(block=blocks[i % len(blocks)]), trials=3)
        for i in range(n)
    ]


async def run_mode(mode: str, jobs: list[VerifyJob], sandbox: str) -> float:
    started = time.perf_counter()
    async with Verifier(mode=mode, sandbox=sandbox) as verifier:
        for job in jobs:
            result = await verifier.verify(job)
            if not result.passed:
                raise SystemExit(f"{mode}: a correct candidate failed: {result.message}")
    return (time.perf_counter() - started) / len(jobs)


async def main(n: int, sandbox: str) -> dict[str, float]:
    jobs = candidates(n)
    warm = await run_mode("warm", jobs, sandbox)
    oneshot = await run_mode("oneshot", jobs, sandbox)
    return {"candidates": n, "warm_s": warm, "oneshot_s": oneshot, "ratio": oneshot / warm}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--sandbox", choices=("auto", "landlock", "off"), default="auto")
    args = parser.parse_args()
    report = asyncio.run(main(args.n, args.sandbox))
    print(
        f"{report['candidates']} candidates: warm {report['warm_s'] * 1e3:.0f} ms/candidate "
        f"(first includes the worker start), one-shot {report['oneshot_s'] * 1e3:.0f} "
        f"ms/candidate, ratio {report['ratio']:.1f}x (target >= 3x)"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
