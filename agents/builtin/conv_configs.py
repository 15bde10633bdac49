"""Launch configurations of the convolution kernels (conv_writer.py), walked by search.py.

Implicit GEMM keys: BLOCK_M (output pixels per tile), BLOCK_N (output channels of the group
per tile), BLOCK_K (C_in/groups * taps per step), GROUP_M (tile order), num_warps,
num_stages. Direct kernel keys (depthwise and other convolutions with few channels per
group): DIRECT_BLOCK_M pixels x DIRECT_BLOCK_N channels per program, DIRECT_WARPS. fp32
operands: `fp32_dot` is tl.dot's input_precision, "tf32x3" (three TF32 tensor-core products,
fp32-level accuracy) or "ieee" (CUDA-core FMAs); the interpreter always computes in ieee.
`taps_loop` (conv_forms.TAPS_LOOPS): how the taps kernel walks K, "single" (default) or
"nested"; `x_channels_last`: the single form's input copied channels-last per call. A strided
transposed convolution's taps kernel (a program per output phase) has keys of its own
(conv_forms.ConvForm): `phase_loop`, `phase_channels_last`, `phases_interleaved`,
`phase_small_groups`.
"""

from __future__ import annotations

from typing import Any

_DIRECT = {"DIRECT_BLOCK_M": 128, "DIRECT_BLOCK_N": 16, "DIRECT_WARPS": 4}


def _gemm(m: int, n: int, k: int, warps: int, stages: int, **extra: Any) -> dict[str, Any]:
    tiles = {"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k, "GROUP_M": 8}
    return {**tiles, "num_warps": warps, "num_stages": stages, **_DIRECT, **extra}


# fp16/bf16: tensor-core tiles as for the matmul; convolutions have fewer output channels
# than a matmul has columns, so 128x128 first
CONV_CONFIGS: list[dict[str, Any]] = [
    _gemm(128, 128, 64, 8, 3),
    _gemm(128, 64, 64, 4, 4),
    _gemm(256, 128, 64, 8, 3),
    _gemm(64, 128, 64, 4, 4),
    _gemm(128, 256, 64, 8, 3),
    _gemm(128, 128, 32, 4, 4, DIRECT_BLOCK_M=256, DIRECT_BLOCK_N=8),
    _gemm(64, 64, 32, 4, 5, DIRECT_BLOCK_M=64, DIRECT_BLOCK_N=32, DIRECT_WARPS=2),
]

# fp32 (KernelBench's dtype, TF32 off): 4-byte tiles take smaller K steps. The taps kernel
# reads its tiles along the input channels (K), so they load in 16-byte vectors and reach the
# tensor cores K-major only where the channels are contiguous: the channels-last forms copy the
# input (and the weight) that way on every call, and that copy pays. On one H200 (torch 2.11,
# Triton 3.6, 2026-11-29, conv_builtin.py --pick over KernelBench level 1's 35 convolutions)
# each configuration alone, geometric mean vs cuDNN: the channels-last single loop 128 x 64
# (first here) 1.13x, 64 x 128 1.11x, 128 x 128 with 8 warps 0.96x; the nested loop over taps
# with NCHW tiles, first until then, 0.45x; best of the four per task 1.21x.
_FIRST_FP32 = _gemm(128, 64, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single", x_channels_last=True)
_PHASED_SINGLE = {"phase_channels_last": True, "phase_loop": "single"}
_PHASED_REST = {"phases_interleaved": True, "phase_small_groups": True}
CONV_FP32_CONFIGS: list[dict[str, Any]] = [
    _FIRST_FP32,
    _gemm(64, 128, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single", x_channels_last=True),
    _gemm(128, 128, 32, 8, 3, fp32_dot="tf32x3", taps_loop="single", x_channels_last=True),
    _gemm(128, 128, 32, 8, 3, fp32_dot="tf32x3", taps_loop="nested"),
    _gemm(64, 128, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single"),
    _gemm(128, 64, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single"),
    _gemm(128, 128, 16, 4, 4, fp32_dot="tf32x3", DIRECT_BLOCK_M=256, DIRECT_BLOCK_N=8),
    _gemm(256, 64, 32, 8, 3, fp32_dot="tf32x3"),
    _gemm(64, 64, 32, 4, 5, fp32_dot="tf32x3", DIRECT_BLOCK_M=64, DIRECT_BLOCK_N=32),
    _gemm(128, 64, 16, 4, 3, fp32_dot="ieee"),
    # strided transposed convolutions (output phases), unmeasured (2026-11-30): the first
    # configuration with its phased taps kernel channels-last (10), then also one loop over
    # (landing tap, channel block) (11), then also the phases of a tile on neighbouring
    # programs (12), then also the phased taps kernel for few channels per group (13)
    {**_FIRST_FP32, "phase_channels_last": True},
    {**_FIRST_FP32, "phase_channels_last": True, "phase_loop": "single"},
    {**_FIRST_FP32, **_PHASED_SINGLE, "phases_interleaved": True},
    {**_FIRST_FP32, **_PHASED_SINGLE, **_PHASED_REST},
    # unmeasured: 48 channels per group (KernelBench 61, 70) in 16-channel steps of the taps
    # kernel instead of the flattened one (14); every new form together (15)
    {**_FIRST_FP32, "channel_step_fit": True},
    {**_FIRST_FP32, **_PHASED_SINGLE, **_PHASED_REST, "channel_step_fit": True},
]
