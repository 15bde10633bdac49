"""Launch configurations of the attention kernels (attention.py), first the default.

BLOCK_Q queries a program and BLOCK_KV keys a step (names of their own: an attention
stage and a matmul stage share the module's constants, and so do `attention_warps` and
`attention_stages`, the attention kernels' num_warps and num_stages, so a matmul stage
after the attention keeps its own); MAX_DV the widest slice of the output's columns one
program accumulates (wider value heads go to more programs). The wide heads' scores and
@ v kernels take the same tiles.

Not measured yet on a GPU with the current kernel (exp2, unmasked off-diagonal blocks):
the first is the guess for fp16/bf16 heads of 64 and 128 on Hopper (Triton's fused
attention tutorial's shape: 128 queries, 64 keys a step, two warp groups, 3 stages); the
second is the 64 x 64 configuration that measured 1.28x eager SDPA in fp32 at s1k d64 on
an H200 (the previous kernel); `benchmarks/gpu/graph_fragments.py --configs N` times them.
"""

from __future__ import annotations

from typing import Any


def _tiles(queries: int, keys: int, warps: int, stages: int, max_dv: int = 128) -> dict[str, Any]:
    tiles = {"BLOCK_Q": queries, "BLOCK_KV": keys, "MAX_DV": max_dv}
    return {**tiles, "attention_warps": warps, "attention_stages": stages}


ATTENTION_CONFIGS: list[dict[str, Any]] = [
    _tiles(128, 64, 8, 3),
    _tiles(64, 64, 4, 2),  # fp32: a 64 x 128 fp32 q tile is 32 KB
    _tiles(128, 64, 4, 3),
    _tiles(128, 128, 8, 3),  # heads up to 64
    _tiles(128, 64, 8, 4),
    _tiles(128, 64, 8, 2),
    _tiles(128, 128, 8, 2),
    _tiles(64, 64, 4, 3),
    _tiles(128, 32, 4, 4),
    _tiles(64, 32, 4, 2, max_dv=256),
]
