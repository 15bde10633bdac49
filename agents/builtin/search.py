"""Launch-configuration search for profile mode.

Each family has a fixed, ordered list of configurations; the first is the default. A
later step picks the untried configuration nearest (in list order) to the fastest one
measured so far, so the search walks around the best point and stays deterministic.
"""

from __future__ import annotations

from typing import Any

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

REDUCTION_CONFIGS: list[dict[str, Any]] = [
    {
        "BLOCK_R": 1024,
        "num_warps": 4,
        "PERSISTENT_R": 8192,
        "persistent_warps": 8,
        "SPLIT_ROWS": 128,
        "SPLIT_BLOCKS": 16,
        "TILE_K": 32,
        "TILE_R": 64,
    },
    {
        "BLOCK_R": 2048,
        "num_warps": 8,
        "PERSISTENT_R": 16384,
        "persistent_warps": 16,
        "SPLIT_ROWS": 128,
        "SPLIT_BLOCKS": 8,
        "TILE_K": 64,
        "TILE_R": 32,
    },
    {
        "BLOCK_R": 1024,
        "num_warps": 4,
        "PERSISTENT_R": 8192,
        "persistent_warps": 4,
        "SPLIT_ROWS": 64,
        "SPLIT_BLOCKS": 16,
        "TILE_K": 16,
        "TILE_R": 64,
    },
    {
        "BLOCK_R": 4096,
        "num_warps": 8,
        "PERSISTENT_R": 4096,
        "persistent_warps": 8,
        "SPLIT_ROWS": 256,
        "SPLIT_BLOCKS": 4,
        "TILE_K": 64,
        "TILE_R": 64,
    },
    {
        "BLOCK_R": 2048,
        "num_warps": 8,
        "PERSISTENT_R": 0,
        "persistent_warps": 8,
        "SPLIT_ROWS": 128,
        "SPLIT_BLOCKS": 8,
        "TILE_K": 32,
        "TILE_R": 32,
    },
    {
        "BLOCK_R": 512,
        "num_warps": 4,
        "PERSISTENT_R": 2048,
        "persistent_warps": 4,
        "SPLIT_ROWS": 128,
        "SPLIT_BLOCKS": 32,
        "TILE_K": 16,
        "TILE_R": 128,
    },
    {
        "BLOCK_R": 8192,
        "num_warps": 16,
        "PERSISTENT_R": 32768,
        "persistent_warps": 16,
        "SPLIT_ROWS": 64,
        "SPLIT_BLOCKS": 4,
        "TILE_K": 128,
        "TILE_R": 32,
    },
]


MATMUL_CONFIGS: list[dict[str, Any]] = [
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 64, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 5},
    {"BLOCK_M": 256, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
]

CONFIGS = {
    "pointwise": POINTWISE_CONFIGS,
    "reduction": REDUCTION_CONFIGS,
    "matmul": MATMUL_CONFIGS,
}


def configs_for(family: str) -> list[dict[str, Any]]:
    return CONFIGS[family]


def choose_config(family: str, task_type: str, history: tuple[Attempt, ...]) -> dict[str, Any]:
    """The configuration for the next code step."""
    configs = configs_for(family)
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
