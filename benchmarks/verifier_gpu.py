"""The verifier on a CUDA GPU: verify and profile a few reference Triton kernels.

Vector add, row softmax and a tiled matmul (the Triton tutorials' kernels) are verified
against their torch references and timed against eager and ``torch.compile`` in one warm
worker. Prints the device's measured copy bandwidth and bf16 matmul rate and writes every
result as JSON.

    python benchmarks/verifier_gpu.py OUT.json [--device cuda:0] [--trials 5]

Needs only torch, triton, numpy and this repository's ``verifier`` package.
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

VECTOR_ADD_REF = """
import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x, y):
        return x + y


def get_inputs():
    return [torch.randn(1 << 26), torch.randn(1 << 26)]


def get_init_inputs():
    return []
"""

VECTOR_ADD = """
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x + y, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        n = out.numel()
        add_kernel[(triton.cdiv(n, 4096),)](x, y, out, n, BLOCK=4096, num_warps=8)
        return out
"""

SOFTMAX_REF = """
import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


def get_inputs():
    return [torch.randn(16384, 4096)]


def get_init_inputs():
    return []
"""

SOFTMAX = """
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def softmax_kernel(x_ptr, out_ptr, n_cols, stride_x, stride_out, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    num = tl.exp(x)
    tl.store(out_ptr + row * stride_out + cols, num / tl.sum(num, axis=0), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n_rows, n_cols = x.shape
        block = triton.next_power_of_2(n_cols)
        softmax_kernel[(n_rows,)](
            x, out, n_cols, x.stride(0), out.stride(0), BLOCK=block, num_warps=16
        )
        return out
"""

MATMUL_REF = """
import torch
from torch import nn


class Model(nn.Module):
    def forward(self, a, b):
        return torch.matmul(a, b)


def get_inputs():
    return [torch.randn(4096, 4096).half(), torch.randn(4096, 4096).half()]


def get_init_inputs():
    return []
"""

MATMUL = """
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def matmul_kernel(
    a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
    BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
):
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BM)
    num_n = tl.cdiv(N, BN)
    group = GROUP * num_n
    first_m = (pid // group) * GROUP
    size_m = min(num_m - first_m, GROUP)
    pid_m = first_m + ((pid % group) % size_m)
    pid_n = (pid % group) // size_m
    rm = (pid_m * BM + tl.arange(0, BM)) % M
    rn = (pid_n * BN + tl.arange(0, BN)) % N
    rk = tl.arange(0, BK)
    a_ptrs = a_ptr + rm[:, None] * sam + rk[None, :] * sak
    b_ptrs = b_ptr + rk[:, None] * sbk + rn[None, :] * sbn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        a = tl.load(a_ptrs, mask=rk[None, :] < K - k * BK, other=0.0)
        b = tl.load(b_ptrs, mask=rk[:, None] < K - k * BK, other=0.0)
        acc = tl.dot(a, b, acc)
        a_ptrs += BK * sak
        b_ptrs += BK * sbk
    cm = pid_m * BM + tl.arange(0, BM)
    cn = pid_n * BN + tl.arange(0, BN)
    mask = (cm[:, None] < M) & (cn[None, :] < N)
    tl.store(c_ptr + cm[:, None] * scm + cn[None, :] * scn, acc.to(tl.float16), mask=mask)


class ModelNew(nn.Module):
    def forward(self, a, b):
        M, K = a.shape
        _, N = b.shape
        c = torch.empty((M, N), device=a.device, dtype=torch.float16)
        grid = (triton.cdiv(M, 128) * triton.cdiv(N, 256),)
        matmul_kernel[grid](
            a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
            c.stride(0), c.stride(1), BM=128, BN=256, BK=64, GROUP=8,
            num_warps=8, num_stages=3,
        )
        return c
"""

KERNELS = {
    "vector_add": (VECTOR_ADD_REF, VECTOR_ADD),
    "softmax": (SOFTMAX_REF, SOFTMAX),
    "matmul": (MATMUL_REF, MATMUL),
}


async def main(out: Path, device: str, trials: int) -> int:
    report: dict[str, object] = {"device": device, "kernels": {}}
    failures = 0
    async with Verifier(mode="warm") as verifier:
        for name, (reference, candidate) in KERNELS.items():
            job = VerifyJob(
                reference,
                candidate,
                device=device,
                task_type="profile",
                trials=trials,
                timeout_s=600,
            )
            started = time.perf_counter()
            result = await verifier.verify(job)
            wall = time.perf_counter() - started
            report["kernels"][name] = {**result.to_dict(), "wall_s": wall}  # type: ignore[index]
            if not result.passed:
                failures += 1
                print(f"{name:10s} REJECTED ({result.stage}): {result.message}")
                continue
            t = result.timings or {}
            comp = t.get("compile") or {}
            print(
                f"{name:10s} candidate {t['candidate']['median_ms']:.4f} ms | eager "
                f"{t['eager']['median_ms']:.4f} ms | compile "
                f"{comp.get('median_ms', float('nan')):.4f} ms | x{t['speedup_vs_eager']:.2f} "
                f"vs eager, x{(t.get('speedup_vs_compile') or float('nan')):.2f} vs compile | "
                f"{t['roofline_fraction']:.1%} of {t['roofline']}"
                + (" | SUSPICIOUS" if t.get("suspicious") else "")
            )
            report["copy_bytes_per_s"] = t["device_copy_bytes_per_s"]
            report["matmul_bf16_flop_per_s"] = t["device_matmul_bf16_flop_per_s"]
            report["device_name"] = t.get("device_name")
    if "copy_bytes_per_s" in report:
        print(
            f"device {report.get('device_name')}: copy bandwidth "
            f"{report['copy_bytes_per_s'] / 1e12:.2f} TB/s (read+write), bf16 matmul "
            f"{report['matmul_bf16_flop_per_s'] / 1e12:.0f} TFLOP/s"
        )
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the JSON report")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.out, args.device, args.trials)))
