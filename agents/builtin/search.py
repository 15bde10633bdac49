"""Launch-configuration search for profile mode.

Each family has a fixed, ordered list of configurations; the first is the default. A
later step picks the untried configuration nearest (in list order) to the fastest one
measured so far, so the search walks around the best point and stays deterministic.
"""

from __future__ import annotations

from typing import Any

import torch

from agents.builtin.attention_configs import ATTENTION_CONFIGS, ATTENTION_FP32_CONFIGS
from agents.builtin.conv_configs import CONV_CONFIGS, CONV_FP32_CONFIGS
from agents.builtin.values import Plan
from agents.types import Attempt

POINTWISE_CONFIGS: list[dict[str, Any]] = [
    {"BLOCK_SIZE": 1024, "num_warps": 4},
    {"BLOCK_SIZE": 2048, "num_warps": 8},
    {"BLOCK_SIZE": 512, "num_warps": 4},
    {"BLOCK_SIZE": 4096, "num_warps": 8},
    {"BLOCK_SIZE": 1024, "num_warps": 8},
    {"BLOCK_SIZE": 256, "num_warps": 2},
    {"BLOCK_SIZE": 8192, "num_warps": 16},
]

# Reduction keys (render.py's host code reads them; every kernel block is BLOCK_M x BLOCK_R):
#   PERSISTENT_R      rows up to this many elements are held in registers, read once; rows
#                     along the innermost dim need 16 neighbours of that length to fit
#   PACK_BLOCK        short rows share a program, up to about this many elements in all
#   persistent_warps  most warps of a register-held program (a warp per 512 elements)
#   BLOCK_R           R elements per step of the looped, partial and combine kernels
#   num_warps         warps of the looped, partial and combine kernels
#   SPLIT_PROGRAMS    with fewer programs than this, single-pass reductions (statistics
#                     fused) cut R into chunks over about this many programs, then merge
#   TILE_K, TILE_R    rows along the innermost dim: rows per program, R elements per step
REDUCTION_CONFIGS: list[dict[str, Any]] = [
    # H100: 16K-element rows (instance norm) in registers; 132 SMs get ~8 split programs each
    {
        "BLOCK_R": 1024,
        "num_warps": 4,
        "PERSISTENT_R": 16384,
        "PACK_BLOCK": 2048,
        "persistent_warps": 16,
        "SPLIT_PROGRAMS": 1024,
        "TILE_K": 128,
        "TILE_R": 32,
    },
    {
        "BLOCK_R": 2048,
        "num_warps": 8,
        "PERSISTENT_R": 16384,
        "PACK_BLOCK": 4096,
        "persistent_warps": 16,
        "SPLIT_PROGRAMS": 1024,
        "TILE_K": 256,
        "TILE_R": 16,
    },
    {
        "BLOCK_R": 1024,
        "num_warps": 4,
        "PERSISTENT_R": 8192,
        "PACK_BLOCK": 1024,
        "persistent_warps": 8,
        "SPLIT_PROGRAMS": 512,
        "TILE_K": 64,
        "TILE_R": 32,
    },
    {
        "BLOCK_R": 4096,
        "num_warps": 8,
        "PERSISTENT_R": 16384,
        "PACK_BLOCK": 8192,
        "persistent_warps": 16,
        "SPLIT_PROGRAMS": 2048,
        "TILE_K": 64,
        "TILE_R": 64,
    },
    # nothing held in registers: every row walked in steps (statistics in one pass)
    {
        "BLOCK_R": 2048,
        "num_warps": 8,
        "PERSISTENT_R": 0,
        "PACK_BLOCK": 2048,
        "persistent_warps": 8,
        "SPLIT_PROGRAMS": 1024,
        "TILE_K": 128,
        "TILE_R": 32,
    },
    {
        "BLOCK_R": 512,
        "num_warps": 4,
        "PERSISTENT_R": 4096,
        "PACK_BLOCK": 1024,
        "persistent_warps": 4,
        "SPLIT_PROGRAMS": 512,
        "TILE_K": 32,
        "TILE_R": 64,
    },
    {
        "BLOCK_R": 8192,
        "num_warps": 16,
        "PERSISTENT_R": 32768,
        "PACK_BLOCK": 4096,
        "persistent_warps": 32,
        "SPLIT_PROGRAMS": 2048,
        "TILE_K": 128,
        "TILE_R": 64,
    },
]


def _fp32_tile(m: int, n: int, k: int, warps: int, stages: int) -> dict[str, Any]:
    tiles = {"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k, "GROUP_M": 8}
    return {**tiles, "num_warps": warps, "num_stages": stages}


# fp16/bf16 operands: 128x256 tiles keep Hopper's tensor cores busiest on large matmuls
MATMUL_CONFIGS: list[dict[str, Any]] = [
    {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 4},
    {"BLOCK_M": 256, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 64, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 5},
]

# fp32 operands: `fp32_dot` is tl.dot's input_precision, "tf32x3" (three TF32 tensor-core
# products per step, fp32-level accuracy; see matmul_writer) or "ieee" (fp32 FMAs); 4-byte
# tiles take smaller K blocks. Ordered by one H200's measurements (torch 2.11, Triton 3.6,
# benchmarks/gpu/matmul_fp32.py; vs torch fp32 with TF32 off, at 4096^3 / 8205 x 2949 x
# 5921 / 256 x 524288 x 256): 128x64x32 with 4 warps and 4 stages in tf32x3 leads
# (1.07x / 0.39x / 1.05x, error 8.5e-7 of the largest value, cuBLAS's 4.5e-6); ieee at
# 128x128x32 is the best on the ragged shape (0.85x / 0.71x / 0.80x), so it is tried next.
MATMUL_FP32_CONFIGS: list[dict[str, Any]] = [
    {**_fp32_tile(128, 64, 32, 4, 4), "fp32_dot": "tf32x3"},
    {**_fp32_tile(128, 128, 32, 8, 3), "fp32_dot": "ieee"},
    {**_fp32_tile(128, 128, 64, 8, 3), "fp32_dot": "tf32x3"},  # 0.71x / 0.41x / 0.69x
    {**_fp32_tile(128, 256, 32, 8, 3), "fp32_dot": "tf32x3"},  # 0.57x / 0.50x / 0.50x
    {**_fp32_tile(128, 128, 16, 4, 4), "fp32_dot": "tf32x3"},  # 0.53x / 0.49x / 0.49x
    {**_fp32_tile(128, 128, 32, 8, 3), "fp32_dot": "tf32x3"},  # 0.68x / 0.40x / 0.65x
    # Hopper: 228 KB of shared memory holds three stages of 256x32 + 32x128
    {**_fp32_tile(256, 128, 32, 8, 3), "fp32_dot": "tf32x3"},  # 0.64x / 0.43x / 0.58x
    {**_fp32_tile(64, 64, 32, 4, 5), "fp32_dot": "tf32x3"},  # 0.69x / 0.25x / 0.38x
    {**_fp32_tile(64, 128, 32, 4, 4), "fp32_dot": "tf32x3"},  # 0.45x / 0.41x / 0.45x
]

CONFIGS = {
    "pointwise": POINTWISE_CONFIGS,
    "reduction": REDUCTION_CONFIGS,
    "matmul": MATMUL_CONFIGS,
    "matmul_fp32": MATMUL_FP32_CONFIGS,
    "conv": CONV_CONFIGS,
    "conv_fp32": CONV_FP32_CONFIGS,
    "attention": ATTENTION_CONFIGS,
    "attention_fp32": ATTENTION_FP32_CONFIGS,
}


def search_space(plan: Plan) -> str:
    """Which configuration list serves this plan: its family, fp32 matmuls apart."""
    if plan.conv is not None:
        x_dtype = next(s.dtype for s in plan.sources if s.name == plan.conv.x)
        return "conv_fp32" if x_dtype == torch.float32 else plan.family
    dot = plan.dot
    if dot is None:
        return plan.family
    a_dtype = next(s.dtype for s in plan.sources if s.name == dot.a.source)
    return "matmul_fp32" if a_dtype == torch.float32 else plan.family


def configs_for(space: str) -> list[dict[str, Any]]:
    return CONFIGS[space]


def choose_config(space: str, task_type: str, history: tuple[Attempt, ...]) -> dict[str, Any]:
    """The configuration for the next code step from the list ``space`` names."""
    configs = configs_for(space)
    if task_type != "profile":
        return dict(configs[0])
    tried = [a.launch_config for a in history if a.launch_config is not None]
    if not tried:
        return dict(configs[0])
    timed = [
        (a.candidate_time_ms, a.launch_config)
        for a in history
        if a.passed and a.candidate_time_ms is not None and a.launch_config in configs
    ]
    if not timed:
        # nothing verified yet: keep the default until it passes
        return dict(configs[0])
    best = configs.index(min(timed, key=lambda t: t[0])[1])
    untried = [i for i, c in enumerate(configs) if c not in tried]
    if not untried:
        return dict(configs[best])
    nearest = min(untried, key=lambda i: (abs(i - best), i))
    return dict(configs[nearest])
