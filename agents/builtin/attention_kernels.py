"""The Triton source of an attention candidate's kernels, for attention.py to render.

Flash attention (heads up to `widest_flash_head`: 256, 128 in fp32): each program takes
BLOCK_M queries of one (batch, head) and BLOCK_DV of the output's columns, holds q in
registers and walks the keys BLOCK_N at a time with the online softmax (a running row
maximum m and sum l, the fp32 accumulator rescaled by exp2(m_old - m_new) when the maximum
grows), so the scores never go to memory. The scale is folded with log2(e) into one
factor, so the softmax takes exp2. The key walk has two loops: the keys every row of the
block sees (no per-score mask: most blocks), then the blocks that need one (the causal
diagonal, a ragged last block, a given mask). kᵀ is read through k's strides as a
(BLOCK_D, BLOCK_N) tile, never transposed in registers.

Wider heads (KernelBench level 1 task 97: 1024) cannot hold a q tile and the accumulator
in one program: three kernels, the scaled and masked scores to an fp32 buffer (q . k
walked BLOCK_D at a time), a softmax of each row in place, and the probabilities @ v.
"""

from __future__ import annotations

import torch

WIDE_BLOCK_D = 32  # the q . k step of the wide heads' scores kernel
SOFTMAX_BLOCK = 1024  # the widest step of the wide heads' row softmax
LOG2E = 1.4426950408889634

DROPPED = """@triton.jit
def {base}_dropped(s, rows, cols, row_ok, col_ok, mask_ptrs, CAUSAL: tl.constexpr,
                   HAS_MASK: tl.constexpr, MASK_KEEPS: tl.constexpr):
    # the scores (log2 units) with -inf where one is dropped: keys past S, the causal
    # future, a given boolean mask's zeros; an additive mask is added
    keep = col_ok[None, :]
    if CAUSAL:
        keep = keep & (cols[None, :] <= rows[:, None])
    if HAS_MASK:
        given = tl.load(mask_ptrs, mask=row_ok[:, None] & keep, other=0)
        if MASK_KEEPS:
            keep = keep & (given != 0)
        else:
            s += given.to(tl.float32) * {log2e}
    return tl.where(keep, s, -float("inf"))"""

KEYS = """@triton.jit
def {base}_keys(
    acc, l_i, m_i, q, kt_ptrs, v_ptrs, mask_ptrs, rows, offs_n, row_ok, d_ok, dv_ok,
    start, end, qk_scale, S, k_s2, v_s2, m_s3,
    BLOCK_N: tl.constexpr, MASKED: tl.constexpr, CAUSAL: tl.constexpr,
    HAS_MASK: tl.constexpr, MASK_KEEPS: tl.constexpr,
):
    # keys start..end of one block of queries; MASKED: blocks that need a per-score mask
    for n0 in range(start, end, BLOCK_N):
        cols = n0 + offs_n
        col_ok = cols < S
        if MASKED:
            kt = tl.load(kt_ptrs + n0 * k_s2, mask=d_ok[:, None] & col_ok[None, :], other=0.0)
            v = tl.load(v_ptrs + n0 * v_s2, mask=col_ok[:, None] & dv_ok[None, :], other=0.0)
        else:
            kt = tl.load(kt_ptrs + n0 * k_s2, mask=d_ok[:, None], other=0.0)
            v = tl.load(v_ptrs + n0 * v_s2, mask=dv_ok[None, :], other=0.0)
        s = {qk}
        scale = qk_scale  # unmasked: scaled in the exponent's FMA, the row maxima scaled
        if MASKED:
            s = {base}_dropped(s * qk_scale, rows, cols, row_ok, col_ok, mask_ptrs + n0 * m_s3,
                               CAUSAL, HAS_MASK, MASK_KEEPS)
            scale = 1.0
        m_new = tl.maximum(m_i, tl.max(s, axis=1) * scale)
        m_safe = m_new
        if MASKED:  # a row whose keys are all dropped so far keeps m = -inf (no nan)
            m_safe = tl.where(m_new == -float("inf"), 0.0, m_new)
        p = tl.math.exp2(s * scale - m_safe[:, None])
        alpha = tl.math.exp2(m_i - m_safe)
        l_i = l_i * alpha + tl.sum(p, axis=1)
        acc = {pv_rescaled}
        m_i = m_new
    return acc, l_i, m_i"""

FLASH = """@triton.jit
def {name}(
    q_ptr, k_ptr, v_ptr, mask_ptr, out_ptr, qk_scale, H, L, S, D, DV,
    q_s0, q_s1, q_s2, q_s3, k_s0, k_s1, k_s2, k_s3, v_s0, v_s1, v_s2, v_s3,
    m_s0, m_s1, m_s2, m_s3, o_s0, o_s1, o_s2, o_s3,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
    BLOCK_DV: tl.constexpr, CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr,
    MASK_KEEPS: tl.constexpr,
):
    # BLOCK_M queries of one (batch, head), BLOCK_DV output columns
    pid_m = tl.program_id(axis=0)
    if CAUSAL:  # the longest key walks (the last queries) start first, the short fill the tail
        pid_m = tl.num_programs(axis=0) - 1 - pid_m
    b = (tl.program_id(axis=1) // H).to(tl.int64)
    h = (tl.program_id(axis=1) % H).to(tl.int64)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    offs_dv = tl.program_id(axis=2) * BLOCK_DV + tl.arange(0, BLOCK_DV)
    row_ok, d_ok, dv_ok = rows < L, offs_d < D, offs_dv < DV
    q_ptrs = q_ptr + b * q_s0 + h * q_s1 + rows[:, None] * q_s2 + offs_d[None, :] * q_s3
    q = tl.load(q_ptrs, mask=row_ok[:, None] & d_ok[None, :], other=0.0)
    kt_ptrs = k_ptr + b * k_s0 + h * k_s1 + offs_d[:, None] * k_s3 + offs_n[None, :] * k_s2
    v_ptrs = v_ptr + b * v_s0 + h * v_s1 + offs_n[:, None] * v_s2 + offs_dv[None, :] * v_s3
    mask_ptrs = mask_ptr + b * m_s0 + h * m_s1 + rows[:, None] * m_s2 + offs_n[None, :] * m_s3
    m_i = tl.full([BLOCK_M], -float("inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_DV], dtype=tl.float32)
    seen, end = S, S  # keys every row of the block sees; the last key any row sees
    if CAUSAL:  # keys up to the block's first query, then its diagonal blocks
        seen = tl.minimum(pid_m * BLOCK_M, S)
        end = tl.minimum((pid_m + 1) * BLOCK_M, S)
    unmasked = seen // BLOCK_N * BLOCK_N
    if HAS_MASK:  # a given mask: every block loads it
        unmasked = 0
    acc, l_i, m_i = {base}_keys(
        acc, l_i, m_i, q, kt_ptrs, v_ptrs, mask_ptrs, rows, offs_n, row_ok, d_ok, dv_ok,
        0, unmasked, qk_scale, S, k_s2, v_s2, m_s3, BLOCK_N, False, CAUSAL, HAS_MASK, MASK_KEEPS,
    )
    acc, l_i, m_i = {base}_keys(
        acc, l_i, m_i, q, kt_ptrs, v_ptrs, mask_ptrs, rows, offs_n, row_ok, d_ok, dv_ok,
        unmasked, end, qk_scale, S, k_s2, v_s2, m_s3, BLOCK_N, True, CAUSAL, HAS_MASK, MASK_KEEPS,
    )
    # rows with every key dropped are 0, as scaled_dot_product_attention gives
    out = acc / tl.where(l_i == 0.0, 1.0, l_i)[:, None]
    out_ptrs = out_ptr + b * o_s0 + h * o_s1 + rows[:, None] * o_s2 + offs_dv[None, :] * o_s3
    tl.store(out_ptrs, out.to(out_ptr.dtype.element_ty), mask=row_ok[:, None] & dv_ok[None, :])"""

SCORES = """@triton.jit
def {base}_scores_kernel(
    q_ptr, k_ptr, mask_ptr, scores_ptr, qk_scale, H, L, S, D,
    q_s0, q_s1, q_s2, q_s3, k_s0, k_s1, k_s2, k_s3, m_s0, m_s1, m_s2, m_s3,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, MASK_KEEPS: tl.constexpr,
):
    # a (BLOCK_M, BLOCK_N) tile of one (batch, head)'s scores, log2 units, fp32
    pid_m, pid_n, bh = tl.program_id(axis=0), tl.program_id(axis=1), tl.program_id(axis=2)
    b, h = (bh // H).to(tl.int64), (bh % H).to(tl.int64)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    row_ok, col_ok = rows < L, cols < S
    q_rows = q_ptr + b * q_s0 + h * q_s1 + rows[:, None] * q_s2
    k_cols = k_ptr + b * k_s0 + h * k_s1 + cols[None, :] * k_s2
    d_end = D
    if CAUSAL:  # a tile wholly in the future is all dropped: no products
        d_end = tl.where(pid_n * BLOCK_N > pid_m * BLOCK_M + BLOCK_M - 1, 0, D)
    s = tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float32)
    for d0 in range(0, d_end, BLOCK_D):
        d = d0 + offs_d
        q = tl.load(q_rows + d[None, :] * q_s3, mask=row_ok[:, None] & (d[None, :] < D), other=0.0)
        kt = tl.load(k_cols + d[:, None] * k_s3, mask=(d[:, None] < D) & col_ok[None, :], other=0.0)
        s = {qk_into}
    mask_ptrs = mask_ptr + b * m_s0 + h * m_s1 + rows[:, None] * m_s2 + cols[None, :] * m_s3
    s = {base}_dropped(s * qk_scale, rows, cols, row_ok, col_ok, mask_ptrs, CAUSAL, HAS_MASK,
                       MASK_KEEPS)
    out = scores_ptr + bh.to(tl.int64) * L * S + rows[:, None] * S + cols[None, :]
    tl.store(out, s, mask=row_ok[:, None] & col_ok[None, :])"""

SOFTMAX = """@triton.jit
def {base}_softmax_kernel(scores_ptr, S, BLOCK_S: tl.constexpr):
    # one row of scores (log2 units) to probabilities in place; a row with every key
    # dropped gives 0s. Lane-wise running maximum and sum, combined at the end.
    row = scores_ptr + tl.program_id(axis=0).to(tl.int64) * S
    offs = tl.arange(0, BLOCK_S)
    m = tl.full([BLOCK_S], -float("inf"), tl.float32)
    l = tl.zeros([BLOCK_S], dtype=tl.float32)
    for n0 in range(0, S, BLOCK_S):
        s = tl.load(row + n0 + offs, mask=n0 + offs < S, other=-float("inf"))
        m_new = tl.maximum(m, s)
        m_safe = tl.where(m_new == -float("inf"), 0.0, m_new)
        l = l * tl.math.exp2(m - m_safe) + tl.math.exp2(s - m_safe)
        m = m_new
    m_row = tl.max(m, axis=0)
    m_row = tl.where(m_row == -float("inf"), 0.0, m_row)
    l_row = tl.sum(l * tl.math.exp2(m - m_row), axis=0)
    inverse = tl.where(l_row == 0.0, 0.0, 1.0 / l_row)
    for n0 in range(0, S, BLOCK_S):
        s = tl.load(row + n0 + offs, mask=n0 + offs < S, other=-float("inf"))
        tl.store(row + n0 + offs, tl.math.exp2(s - m_row) * inverse, mask=n0 + offs < S)"""

PV = """@triton.jit
def {base}_pv_kernel(
    p_ptr, v_ptr, out_ptr, H, L, S, DV,
    v_s0, v_s1, v_s2, v_s3, o_s0, o_s1, o_s2, o_s3,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_DV: tl.constexpr,
):
    # out = probabilities @ v for BLOCK_M queries of one (batch, head), BLOCK_DV columns
    pid_m, pid_dv, bh = tl.program_id(axis=0), tl.program_id(axis=1), tl.program_id(axis=2)
    b, h = (bh // H).to(tl.int64), (bh % H).to(tl.int64)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_dv = pid_dv * BLOCK_DV + tl.arange(0, BLOCK_DV)
    row_ok, dv_ok = rows < L, offs_dv < DV
    p_ptrs = p_ptr + bh.to(tl.int64) * L * S + rows[:, None] * S + offs_n[None, :]
    v_ptrs = v_ptr + b * v_s0 + h * v_s1 + offs_n[:, None] * v_s2 + offs_dv[None, :] * v_s3
    acc = tl.zeros([BLOCK_M, BLOCK_DV], dtype=tl.float32)
    for n0 in range(0, S, BLOCK_N):
        col_ok = n0 + offs_n < S
        p = tl.load(p_ptrs + n0, mask=row_ok[:, None] & col_ok[None, :], other=0.0)
        v = tl.load(v_ptrs + n0 * v_s2, mask=col_ok[:, None] & dv_ok[None, :], other=0.0)
        acc = {pv}
    out_ptrs = out_ptr + b * o_s0 + h * o_s1 + rows[:, None] * o_s2 + offs_dv[None, :] * o_s3
    tl.store(out_ptrs, acc.to(out_ptr.dtype.element_ty), mask=row_ok[:, None] & dv_ok[None, :])"""


def _dots(dtype: torch.dtype, interpreter: bool) -> dict[str, str]:
    """The kernels' tl.dot expressions for the operands' dtype: fp32 as three TF32
    products (fp32-level accuracy; IEEE in the interpreter), bf16 widened in the
    interpreter (it has no bf16 dot), fp16/bf16 probabilities cast to v's dtype."""
    if dtype == torch.float32:
        precision, widen, p = f", input_precision={'ieee' if interpreter else 'tf32x3'!r}", "", "p"
    elif interpreter and dtype == torch.bfloat16:
        precision, widen, p = "", ".to(tl.float32)", "p"
    else:
        precision, widen, p = "", "", "p.to(v.dtype)"
    return {
        "qk": f"tl.dot(q{widen}, kt{widen}{precision})",
        "qk_into": f"tl.dot(q{widen}, kt{widen}, s{precision})",
        "pv_rescaled": f"tl.dot({p}, v{widen}, acc * alpha[:, None]{precision})",
        "pv": f"tl.dot({p}, v{widen}, acc{precision})",
    }


def widest_flash_head(dtype: torch.dtype) -> int:
    """The widest head the flash kernel holds; wider ones take the three kernels. fp32
    tiles past 128 need more than Hopper's 227 KB of shared memory in every configuration
    (compiled for sm_90)."""
    return 128 if dtype == torch.float32 else 256


def attention_kernels(name: str, dtype: torch.dtype, interpreter: bool) -> str:
    """The flash kernel `name`, the wide heads' three kernels, and their helpers."""
    base = name.removesuffix("_kernel")
    dots = _dots(dtype, interpreter)
    parts = [DROPPED.format(base=base, log2e=LOG2E), KEYS.format(base=base, **dots)]
    parts.append(FLASH.format(name=name, base=base))
    parts += [SCORES.format(base=base, **dots), SOFTMAX.format(base=base)]
    parts.append(PV.format(base=base, **dots))
    return "\n\n\n".join(parts)


def wide_kernel_names(name: str) -> tuple[str, str, str]:
    """The wide heads' kernels: scores, row softmax, probabilities @ v."""
    base = name.removesuffix("_kernel")
    return f"{base}_scores_kernel", f"{base}_softmax_kernel", f"{base}_pv_kernel"
