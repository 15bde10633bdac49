"""Launch configurations of the attention kernels (attention.py), first the default: one
list for fp16/bf16 operands, one for fp32 (the plan's family, `attention` or
`attention_fp32`, names the list).

BLOCK_Q queries a program and BLOCK_KV keys a step (names of their own: an attention
stage and a matmul stage share the module's constants, and so do `attention_warps` and
`attention_stages`, the attention kernels' num_warps and num_stages, so a matmul stage
after the attention keeps its own); MAX_DV the widest slice of the output's columns one
program accumulates (wider value heads go to more programs). The wide heads' scores and
@ v kernels take the same tiles.

Not timed on a GPU yet with this kernel (exp2, unmasked off-diagonal blocks). Compiled
for sm_90 without a GPU (Triton 3.9, ptxas): every configuration below fits Hopper's
227 KB of shared memory at heads of 64 and 128, and spills no registers there except
where noted. fp16: the first is the guess for heads of 64 and 128 (Triton's fused
attention tutorial's shape: 128 queries, 64 keys a step, two warp groups, 3 stages; 115
registers at d64, 170 at d128). fp32: 64 x 64 with 4 warps measured 1.28x eager SDPA at
s1k d64 on an H200 with the previous kernel, but spills at d128, where 128 x 32 with 8
warps does not. `benchmarks/gpu/graph_fragments.py --configs N` times the first N.
"""

from __future__ import annotations

from typing import Any


def _tiles(queries: int, keys: int, warps: int, stages: int, max_dv: int = 128) -> dict[str, Any]:
    tiles = {"BLOCK_Q": queries, "BLOCK_KV": keys, "MAX_DV": max_dv}
    return {**tiles, "attention_warps": warps, "attention_stages": stages}


ATTENTION_CONFIGS: list[dict[str, Any]] = [
    _tiles(128, 64, 8, 3),
    _tiles(128, 64, 4, 3),
    _tiles(128, 128, 8, 3),  # heads up to 64 (229 KB of shared memory at d128)
    _tiles(128, 64, 8, 4),
    _tiles(128, 64, 8, 2),
    _tiles(128, 128, 8, 2),
    _tiles(64, 64, 4, 3),
    _tiles(128, 32, 4, 4),
    _tiles(64, 32, 4, 2, max_dv=256),
]

ATTENTION_FP32_CONFIGS: list[dict[str, Any]] = [
    _tiles(64, 64, 4, 2),  # spills at d128
    _tiles(128, 32, 8, 2),
    _tiles(64, 32, 4, 3),  # spills at d128
    _tiles(64, 32, 8, 2),  # spills at d128
    _tiles(64, 64, 4, 2, max_dv=64),
    _tiles(64, 32, 4, 2, max_dv=64),
]
