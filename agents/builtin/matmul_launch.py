"""The host code that launches a matmul plan's kernels (matmul_writer.py) per call.

A product with few columns (N up to NARROW_N: a matrix-vector product) takes the NARROW
kernel, FMAs over 64-row blocks with no tensor-core tile wasted on the missing columns.
With fewer output tiles than SPLIT_K_PROGRAMS (large K over a small output: 256 x 256 with
K = 524288 is 4 tiles of 128 x 128), K is cut into chunks over about that many programs,
each storing a partial fp32 tile, and the combine kernel sums them and runs the epilogue.
With K a multiple of BLOCK_K, EVEN_K drops the K masks; otherwise the last step alone
is masked along K. Operands whose rows are off 16-element boundaries are first copied into
aligned buffers (matmul_alignment.py) when the product is wide enough. All are decided on
the call's sizes, so one candidate serves every shape.
"""

from __future__ import annotations

from typing import Any

from agents.builtin.kernel_writer import INDENT, KernelWriter
from agents.builtin.matmul_alignment import NAMES as ALIGNMENT_NAMES
from agents.builtin.matmul_alignment import aligned_operand_lines
from agents.builtin.values import Plan

NARROW_N = 8  # tl.dot needs 16 columns; up to 8 the FMA block wastes less
NARROW_BLOCK_M = 64
NARROW_BLOCK = 256  # BLOCK_K x BLOCK_N of the FMA block, per row
SPLIT_K_PROGRAMS = 264  # two programs per SM on an H100/H200 (132 SMs)
SPLIT_K_MIN_STEPS = 8  # a chunk is at least this many BLOCK_K steps
# the host code's variables and the kernels' locals, which no input may be named
NAMES = {"m_size", "n_size", "k_size", "batch", "narrow", "block_n", "block_k", "tiles"}
NAMES |= {"k_chunk", "part", "pid_k", "k_start", "k_end", "s", "split", "block_m"}
NAMES |= {"even_k", "k_whole"} | ALIGNMENT_NAMES


def _launch(writer: KernelWriter, grid: str, keywords: dict[str, str]) -> str:
    args = [host for _, host in writer.params()]
    args += [f"{k}={v}" for k, v in keywords.items()]
    return f"{writer.name}[{grid}]({', '.join(args)})"


def matmul_launch_lines(
    plan: Plan, config: dict[str, Any], writers: list[KernelWriter], device: str
) -> list[str]:
    main, combine = writers
    assert plan.dot is not None
    sizes = plan.f_sizes
    batch = sizes[0] if plan.rank == 3 else "1"
    programs = config.get("SPLIT_K_PROGRAMS", SPLIT_K_PROGRAMS)
    blocks = {k: f"block_{k[-1].lower()}" for k in ("BLOCK_M", "BLOCK_N", "BLOCK_K")}
    blocks["GROUP_M"] = "GROUP_M"
    options = {k: str(config[k]) for k in ("num_warps", "num_stages") if k in config}
    switches = {"NARROW": "narrow", "EVEN_K": "even_k"}
    split_launch = {**blocks, **switches, "SPLIT": "True", **options}
    whole_launch = {**blocks, **switches, "SPLIT": "False", **options}
    return [
        f"m_size, n_size, k_size, batch = {sizes[-2]}, {sizes[-1]}, {plan.dot.k_size}, {batch}",
        f"# up to {NARROW_N} columns (a matrix-vector product): FMAs, no tensor-core tile",
        f"narrow = n_size <= {NARROW_N}",
        "if narrow:",
        f"{INDENT}block_n = triton.next_power_of_2(max(n_size, 1))",
        f"{INDENT}block_m, block_k = {NARROW_BLOCK_M}, max({NARROW_BLOCK} // block_n, 16)",
        "else:",
        f"{INDENT}block_m, block_n, block_k = BLOCK_M, BLOCK_N, BLOCK_K",
        *aligned_operand_lines(plan, config),
        "# K a multiple of BLOCK_K (every K chunk is one too): no load is masked along K",
        "even_k = k_size % block_k == 0",
        "tiles = triton.cdiv(m_size, block_m) * triton.cdiv(n_size, block_n)",
        f"# few tiles: K cut into chunks over about {programs} programs, partial tiles summed",
        f"split = min(triton.cdiv({programs}, tiles * batch), "
        f"triton.cdiv(k_size, {SPLIT_K_MIN_STEPS} * block_k))",
        "k_chunk = triton.cdiv(triton.cdiv(max(k_size, 1), max(split, 1)), block_k) * block_k",
        "split = triton.cdiv(k_size, k_chunk)",
        "if split > 1:",
        f"{INDENT}part = torch.empty((split, batch, m_size, n_size), device={device}, "
        "dtype=torch.float32)",
        INDENT + _launch(main, "(tiles, batch, split)", split_launch),
        INDENT + _launch(combine, "(tiles, batch)", {**blocks, **options}),
        "else:",
        f"{INDENT}part = {plan.outputs[0].name}  # not read: no partial tiles",
        f"{INDENT}# all of K, rounded up to whole steps: a multiple of 16, so Triton can prove",
        f"{INDENT}# the K offsets 16-byte aligned",
        f"{INDENT}k_chunk = triton.cdiv(max(k_size, 1), block_k) * block_k",
        INDENT + _launch(main, "(tiles, batch)", whole_launch),
    ]
