"""A prototype for the built-in agent's depthwise convolutions (issue 17; KernelBench 82 and 84
ran at 0.78x of torch.compile and 20% of copy bandwidth with the conv "direct" kernel): a
program per (image, channel) plane, ROWS output rows by BLOCK_W output columns, the window
unrolled like a pool's. The column index is the program's block plus a range (no division
by the output width, contiguous), a tap's loads are one address shifted by a constant (the
tap's row and column), the kernel's rows of neighbouring output rows come from L1, and the
plane's 9 weights are 9 scalar loads. Timed against cuDNN (torch's own conv, TF32 off),
torch.compile and a copy of the input, at KernelBench's sizes and one other. Run from the
repository root on the GPU machine (about a minute on one H200):

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/depthwise_rows.py --out "$OUT"

Writes depthwise_rows.json (one record per case and tile) and prints a markdown table.
`--device cpu` checks the kernel against torch in Triton's interpreter at small sizes (set
TRITON_INTERPRET=1) and times nothing. Not the agent's lowering: conv_writer.py would take
the winning tile as a configuration of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "gpu"))

from gpu_bench import bench_ms, report  # noqa: E402

# (name, N, C, H, W): KernelBench 82 (3x3, stride 1, no padding), 84 (the same, 64x128x256x512)
CASES = [
    ("82", 16, 64, 512, 512),
    ("84", 64, 128, 256, 512),
    ("other", 32, 96, 300, 700),
]
TILES = [(1, 512, 4), (2, 512, 4), (4, 256, 4), (8, 128, 4), (4, 512, 8)]  # ROWS, BLOCK_W, warps


@triton.jit
def depthwise_rows_kernel(
    x_ptr,
    w_ptr,
    out_ptr,
    C,
    H,
    W,
    H_out,
    W_out,
    x_sn,
    x_sc,
    x_sh,
    out_sn,
    out_sc,
    out_sh,
    KH: tl.constexpr,
    KW: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_W: tl.constexpr,
):
    plane = tl.program_id(axis=0)
    n = plane // C
    c = plane % C
    oh = tl.program_id(axis=1) * ROWS + tl.arange(0, ROWS)[:, None]
    col = tl.program_id(axis=2) * BLOCK_W + tl.arange(0, BLOCK_W)[None, :]
    rows_ok = oh < H_out
    x_plane = x_ptr + n.to(tl.int64) * x_sn + c.to(tl.int64) * x_sc
    acc = tl.zeros([ROWS, BLOCK_W], dtype=tl.float32)
    for kh in tl.static_range(KH):
        for kw in tl.static_range(KW):
            weight = tl.load(w_ptr + c * (KH * KW) + kh * KW + kw).to(tl.float32)
            # within the input row is enough: columns past the output's are never stored,
            # and a bound on W (not W_out) keeps the tap's loads 16-byte aligned where W is
            inside = rows_ok & (col + kw < W)
            x = tl.load(x_plane + (oh + kh) * x_sh + col + kw, mask=inside, other=0.0)
            acc += x.to(tl.float32) * weight
    out_plane = out_ptr + n.to(tl.int64) * out_sn + c.to(tl.int64) * out_sc
    mask = rows_ok & (col < W_out)
    tl.store(out_plane + oh * out_sh + col, acc.to(out_ptr.dtype.element_ty), mask=mask)


def depthwise(x: torch.Tensor, w: torch.Tensor, rows: int, block_w: int, warps: int) -> Any:
    """Depthwise 2-D convolution, stride 1, no padding, of contiguous NCHW x by w (C, 1, KH, KW)."""
    n, c, h, width = x.shape
    kh, kw = w.shape[2], w.shape[3]
    out = torch.empty((n, c, h - kh + 1, width - kw + 1), device=x.device, dtype=x.dtype)
    h_out, w_out = out.shape[2], out.shape[3]
    grid = (n * c, triton.cdiv(h_out, rows), triton.cdiv(w_out, block_w))
    depthwise_rows_kernel[grid](
        x, w, out, c, h, width, h_out, w_out, x.stride(0), x.stride(1), x.stride(2),
        out.stride(0), out.stride(1), out.stride(2), KH=kh, KW=kw, ROWS=rows, BLOCK_W=block_w,
        num_warps=warps,
    )  # fmt: skip
    return out


def check_on_cpu() -> int:
    """Every tile against torch's conv in the interpreter, at small sizes (odd widths)."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 13)
    w = torch.randn(3, 1, 3, 3)
    expected = F.conv2d(x, w, groups=3)
    for rows, _, _ in TILES:
        got = depthwise(x, w, rows, 8, 1)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    print(f"{len(TILES)} tiles match torch.nn.functional.conv2d on 2x3x7x13")
    return 0


def run_case(name: str, shape: tuple[int, ...], with_compile: bool) -> list[dict[str, Any]]:
    torch.manual_seed(0)
    x = torch.randn(shape, device="cuda")
    w = torch.randn(shape[1], 1, 3, 3, device="cuda")
    expected = F.conv2d(x, w, groups=shape[1])
    moved = (x.numel() + expected.numel()) * 4
    copy_ms = bench_ms(lambda: x.clone())
    cudnn_ms = bench_ms(lambda: F.conv2d(x, w, groups=shape[1]))
    compile_ms = None
    if with_compile:
        compiled = torch.compile(lambda a, b: F.conv2d(a, b, groups=shape[1]))
        compiled(x, w)
        compile_ms = bench_ms(lambda: compiled(x, w))
    records = []
    for rows, block_w, warps in TILES:
        got = depthwise(x, w, rows, block_w, warps)
        error = (got - expected).abs().max().item()
        ms = bench_ms(lambda: depthwise(x, w, rows, block_w, warps))  # noqa: B023
        records.append(
            {
                "case": name,
                "shape": list(shape),
                "rows": rows,
                "block_w": block_w,
                "warps": warps,
                "max_abs_error": error,
                "ms": ms,
                "cudnn_ms": cudnn_ms,
                "compile_ms": compile_ms,
                "copy_ms": copy_ms,
                "of_copy": moved / ms / (2 * x.numel() * 4 / copy_ms),
                "vs_cudnn": cudnn_ms / ms,
                "vs_compile": compile_ms / ms if compile_ms else None,
            }
        )
    return records


def table(records: list[dict[str, Any]]) -> str:
    lines = ["| case | shape | rows x cols, warps | ms | of copy | vs cuDNN | vs compile | err |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in records:
        versus = f"{r['vs_compile']:.2f}x" if r["vs_compile"] else "—"
        lines.append(
            f"| {r['case']} | {'x'.join(map(str, r['shape']))} | {r['rows']} x {r['block_w']}, "
            f"{r['warps']} | {r['ms']:.3f} | {r['of_copy']:.0%} | {r['vs_cudnn']:.2f}x | "
            f"{versus} | {r['max_abs_error']:.1e} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--skip-compile", action="store_true")
    args = parser.parse_args()
    if args.device == "cpu":
        return check_on_cpu()
    if not torch.cuda.is_available():
        print("depthwise_rows.py needs a CUDA GPU (or --device cpu)", file=sys.stderr)
        return 2
    torch.backends.cudnn.allow_tf32 = False
    args.out.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name, *shape in CASES:
        records += run_case(name, tuple(shape), not args.skip_compile)
        torch.cuda.empty_cache()
        text = json.dumps(report(records, started), indent=2)
        (args.out / "depthwise_rows.json").write_text(text)
    print(table(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
