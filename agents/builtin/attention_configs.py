"""Launch configurations of the flash-attention kernel (attention.py), first the default.

BLOCK_Q queries a program and BLOCK_KV keys a step (names of their own: an attention
stage and a matmul stage share the module's constants); MAX_DV the widest slice of the
output's columns one program accumulates (wider value heads go to more programs). The
default suits fp32 tiles too (a 64 x 128 fp32 q tile is 32 KB); the larger ones are for
fp16/bf16.
"""

from __future__ import annotations

from typing import Any

ATTENTION_CONFIGS: list[dict[str, Any]] = [
    {"BLOCK_Q": 64, "BLOCK_KV": 64, "MAX_DV": 128, "num_warps": 4, "num_stages": 2},
    {"BLOCK_Q": 128, "BLOCK_KV": 64, "MAX_DV": 128, "num_warps": 8, "num_stages": 2},
    {"BLOCK_Q": 128, "BLOCK_KV": 32, "MAX_DV": 128, "num_warps": 4, "num_stages": 3},
    {"BLOCK_Q": 64, "BLOCK_KV": 32, "MAX_DV": 256, "num_warps": 4, "num_stages": 2},
    {"BLOCK_Q": 128, "BLOCK_KV": 128, "MAX_DV": 128, "num_warps": 8, "num_stages": 2},
    {"BLOCK_Q": 32, "BLOCK_KV": 64, "MAX_DV": 64, "num_warps": 4, "num_stages": 3},
]
