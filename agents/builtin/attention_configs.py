"""Launch configurations of the flash-attention kernel (attention.py), first the default.

BLOCK_M queries and BLOCK_N keys per step; MAX_DV the widest slice of the output's columns
one program accumulates (wider value heads go to more programs). The default suits fp32
tiles too (a 64 x 128 fp32 q tile is 32 KB); the larger ones are for fp16/bf16.
"""

from __future__ import annotations

from typing import Any

ATTENTION_CONFIGS: list[dict[str, Any]] = [
    {"BLOCK_M": 64, "BLOCK_N": 64, "MAX_DV": 128, "num_warps": 4, "num_stages": 2},
    {"BLOCK_M": 128, "BLOCK_N": 64, "MAX_DV": 128, "num_warps": 8, "num_stages": 2},
    {"BLOCK_M": 128, "BLOCK_N": 32, "MAX_DV": 128, "num_warps": 4, "num_stages": 3},
    {"BLOCK_M": 64, "BLOCK_N": 32, "MAX_DV": 256, "num_warps": 4, "num_stages": 2},
    {"BLOCK_M": 128, "BLOCK_N": 128, "MAX_DV": 128, "num_warps": 8, "num_stages": 2},
    {"BLOCK_M": 32, "BLOCK_N": 64, "MAX_DV": 64, "num_warps": 4, "num_stages": 3},
]
