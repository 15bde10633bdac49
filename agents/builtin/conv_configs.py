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
# 1.13x, 64 x 128 1.11x, 128 x 128 with 8 warps 0.96x; the nested loop over taps with NCHW
# tiles, first until then, 0.45x; best of the four per task 1.21x.
#
# The first configuration adds, to that channels-last 128 x 64 loop, the forms for what was
# still behind (conv_forms.py): strided transposed convolutions' phased taps kernel
# channels-last, with one loop over (landing tap, channel block) and the phases of a tile on
# neighbouring programs; that kernel for few channels per group (KernelBench 72, 75) instead
# of the direct or flattened one; 16-channel steps for 48 channels (61, 70). Same H200,
# 2026-11-30, `--pick` on those 8 tasks, against the plain 128 x 64 form: 72 0.08x -> 1.98x of
# cuDNN, 75 0.37x -> 3.12x, 61 0.80x -> 3.09x, 70 0.58x -> 2.16x, 73 1.20x -> 1.92x, 77 0.69x
# -> 1.67x, 79 0.47x -> 0.66x, 81 0.15x -> 0.41x; the forms change no other convolution's
# kernel. Entries 10-14 add them one at a time, for measuring each.
_CHANNELS_LAST = _gemm(
    128, 64, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single", x_channels_last=True
)
_PHASED_SINGLE = {"phase_channels_last": True, "phase_loop": "single"}
_PHASED_REST = {"phases_interleaved": True, "phase_small_groups": True}
CONV_FP32_CONFIGS: list[dict[str, Any]] = [
    {**_CHANNELS_LAST, **_PHASED_SINGLE, **_PHASED_REST, "channel_step_fit": True},
    _CHANNELS_LAST,
    _gemm(64, 128, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single", x_channels_last=True),
    _gemm(128, 128, 32, 8, 3, fp32_dot="tf32x3", taps_loop="single", x_channels_last=True),
    _gemm(128, 128, 32, 8, 3, fp32_dot="tf32x3", taps_loop="nested"),
    _gemm(64, 128, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single"),
    _gemm(128, 64, 32, 4, 4, fp32_dot="tf32x3", taps_loop="single"),
    _gemm(128, 128, 16, 4, 4, fp32_dot="tf32x3", DIRECT_BLOCK_M=256, DIRECT_BLOCK_N=8),
    _gemm(256, 64, 32, 8, 3, fp32_dot="tf32x3"),
    _gemm(64, 64, 32, 4, 5, fp32_dot="tf32x3", DIRECT_BLOCK_M=64, DIRECT_BLOCK_N=32),
    # the first configuration's forms one at a time on the channels-last 128 x 64 loop: the
    # phased taps kernel channels-last (10), then also the landing-taps loop (11), then also
    # the phases of a tile on neighbouring programs (12), then also few channels per group in
    # the phased taps kernel (13); 16-channel steps for 48 channels alone (14)
    {**_CHANNELS_LAST, "phase_channels_last": True},
    {**_CHANNELS_LAST, **_PHASED_SINGLE},
    {**_CHANNELS_LAST, **_PHASED_SINGLE, "phases_interleaved": True},
    {**_CHANNELS_LAST, **_PHASED_SINGLE, **_PHASED_REST},
    {**_CHANNELS_LAST, "channel_step_fit": True},
    _gemm(128, 64, 16, 4, 3, fp32_dot="ieee"),
]

# the first configuration with the row-tiled depthwise kernel (depthwise_writer.py) in the
# prototype's two best tiles, ROWS x BLOCK_W with 4 warps (benchmarks/gpu/depthwise_rows.py on
# an H200, fp32: 2 x 512 2.74x cuDNN at KernelBench 82's size, 4 x 256 best at 32x96x300x700).
# The agent's kernel is unmeasured: `conv_builtin.py --pick 0,16,17 --tasks 82,84,85,86,83`
# (fp32: 16 and 17; fp16/bf16: 7 and 8)
ROW_TILES = ([2, 512, 4], [4, 256, 4])
CONV_FP32_CONFIGS += [{**CONV_FP32_CONFIGS[0], "direct_rows": list(t)} for t in ROW_TILES]
CONV_CONFIGS += [{**CONV_CONFIGS[0], "direct_rows": list(t)} for t in ROW_TILES]
