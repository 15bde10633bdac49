"""Attention as one flash-attention kernel: `softmax(q @ kᵀ * scale [+ mask]) @ v` and
`F.scaled_dot_product_attention`, matched by attention_match.py.

Each program takes BLOCK_M queries of one (batch, head) and BLOCK_DV of the output's
columns, and walks the keys BLOCK_N at a time with the online softmax: a running row
maximum m and sum l, the accumulator rescaled by exp(m_old - m_new) when the maximum
grows, so the scores never go to memory. Scores and the accumulator are fp32; fp16/bf16
operands go to tensor cores as they are, fp32 ones as three TF32 products (`tf32x3`,
fp32-level accuracy; IEEE in the interpreter), and the probabilities stay fp32 for the
second product. A causal mask stops the key walk at the block's last query. Head sizes
above 128 walk q·k in 128-wide chunks; output columns beyond BLOCK_DV go to more programs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch.fx import Graph, GraphModule
from torch.fx import Node as FxNode

from agents.builtin.attention_match import AttentionSpec, attention_within, match_attention
from agents.builtin.kernel_writer import INDENT
from agents.builtin.reference import Placeholder, Traced
from agents.builtin.render import kernel_name, module_source, return_line
from agents.builtin.stages import Lowered, Stage, lower_graph
from agents.builtin.values import Plan
from agents.types import Unsupported

KERNEL = """@triton.jit
def {name}(
    q_ptr, k_ptr, v_ptr, mask_ptr, out_ptr, scale, H, L, S, D, DV,
    q_s0, q_s1, q_s2, q_s3, k_s0, k_s1, k_s2, k_s3, v_s0, v_s1, v_s2, v_s3,
    m_s0, m_s1, m_s2, m_s3, o_s0, o_s1, o_s2, o_s3,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
    BLOCK_DV: tl.constexpr, WHOLE_HEAD: tl.constexpr, CAUSAL: tl.constexpr,
    HAS_MASK: tl.constexpr, MASK_KEEPS: tl.constexpr,
):
    # BLOCK_M queries of one (batch, head), BLOCK_DV output columns
    pid_m = tl.program_id(axis=0)
    b = tl.program_id(axis=1) // H
    h = tl.program_id(axis=1) % H
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    offs_dv = tl.program_id(axis=2) * BLOCK_DV + tl.arange(0, BLOCK_DV)
    row_mask = offs_m < L
    q_rows = q_ptr + b * q_s0 + h * q_s1 + offs_m[:, None] * q_s2
    k_base = k_ptr + b * k_s0 + h * k_s1
    v_base = v_ptr + b * v_s0 + h * v_s1
    if WHOLE_HEAD:  # the whole head in registers: q read once
        q_mask = row_mask[:, None] & (offs_d[None, :] < D)
        q = tl.load(q_rows + offs_d[None, :] * q_s3, mask=q_mask, other=0.0)
    m_i = tl.full([BLOCK_M], -float("inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_DV], dtype=tl.float32)
    end = S
    if CAUSAL:  # keys after the block's last query are masked for all its rows
        end = tl.minimum(S, (pid_m + 1) * BLOCK_M)
    for n0 in range(0, end, BLOCK_N):
        offs_n = n0 + tl.arange(0, BLOCK_N)
        col_mask = offs_n < S
        k_cols = k_base + offs_n[None, :] * k_s2
        if WHOLE_HEAD:
            kt_mask = col_mask[None, :] & (offs_d[:, None] < D)
            kt = tl.load(k_cols + offs_d[:, None] * k_s3, mask=kt_mask, other=0.0)
{qk_whole}
        else:  # a wide head: q . k in BLOCK_D chunks
            s = tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float32)
            for d0 in range(0, D, BLOCK_D):
                d = d0 + offs_d
                q_mask = row_mask[:, None] & (d[None, :] < D)
                q = tl.load(q_rows + d[None, :] * q_s3, mask=q_mask, other=0.0)
                kt_mask = col_mask[None, :] & (d[:, None] < D)
                kt = tl.load(k_cols + d[:, None] * k_s3, mask=kt_mask, other=0.0)
{qk_chunk}
        s = s * scale
        keep = col_mask[None, :]
        if CAUSAL:
            keep = keep & (offs_n[None, :] <= offs_m[:, None])
        if HAS_MASK:
            mask_rows = mask_ptr + b * m_s0 + h * m_s1 + offs_m[:, None] * m_s2
            in_bounds = row_mask[:, None] & keep
            given = tl.load(mask_rows + offs_n[None, :] * m_s3, mask=in_bounds, other=0)
            if MASK_KEEPS:  # a boolean mask: true where a score is kept
                keep = keep & (given != 0)
            else:  # an additive mask
                s += given.to(tl.float32)
        s = tl.where(keep, s, -float("inf"))
        # online softmax; a row whose keys are all masked so far keeps m = -inf (no nan)
        m_new = tl.maximum(m_i, tl.max(s, axis=1))
        m_safe = tl.where(m_new == -float("inf"), 0.0, m_new)
        p = tl.exp(s - m_safe[:, None])
        alpha = tl.exp(m_i - m_safe)
        l_i = l_i * alpha + tl.sum(p, axis=1)
        v_mask = col_mask[:, None] & (offs_dv[None, :] < DV)
        v_ptrs = v_base + offs_n[:, None] * v_s2 + offs_dv[None, :] * v_s3
        v = tl.load(v_ptrs, mask=v_mask, other=0.0)
{pv}
        m_i = m_new
    # rows with every key masked are 0, as scaled_dot_product_attention gives
    out = acc / tl.where(l_i == 0.0, 1.0, l_i)[:, None]
    out_ptrs = out_ptr + b * o_s0 + h * o_s1 + offs_m[:, None] * o_s2 + offs_dv[None, :] * o_s3
    out_mask = row_mask[:, None] & (offs_dv[None, :] < DV)
    tl.store(out_ptrs, out.to(out_ptr.dtype.element_ty), mask=out_mask)"""
RESULT_NODE, RESULT_BUFFER = "attention_result", "attention_buf"
HEAD_CHUNK = 128  # widest q . k step; wider heads walk it in chunks
LAUNCH_KEYS = ("num_warps", "num_stages")


def _dots(dtype: torch.dtype, interpreter: bool) -> dict[str, str]:
    """The kernel's three tl.dot steps for the operands' dtype."""
    pad = INDENT * 3
    if dtype == torch.float32:
        precision = f", input_precision={'ieee' if interpreter else 'tf32x3'!r}"
        widen = ""
        p = "p"
    elif interpreter and dtype == torch.bfloat16:  # the interpreter has no bf16 tl.dot
        precision, widen, p = "", ".to(tl.float32)", "p"
    else:
        precision, widen, p = "", "", "p.to(v.dtype)"
    return {
        "qk_whole": f"{pad}s = tl.dot(q{widen}, kt{widen}{precision})",
        "qk_chunk": f"{pad}{INDENT}s = tl.dot(q{widen}, kt{widen}, s{precision})",
        "pv": f"{INDENT * 2}acc = acc * alpha[:, None] + tl.dot({p}, v{widen}{precision})",
    }


class AttentionKernel:
    """The one kernel of an attention candidate, in the writers' shape for module_source."""

    def __init__(self, name: str, dtype: torch.dtype, interpreter: bool) -> None:
        self.name = name
        self.dtype = dtype
        self.interpreter = interpreter

    def kernel(self) -> str:
        return KERNEL.format(name=self.name, **_dots(self.dtype, self.interpreter))

    def uses_multiply(self) -> bool:
        return False


@dataclass
class AttentionLowered(Lowered):
    """One attention kernel, and the stages of the graph's rest that read its result."""

    spec: AttentionSpec | None = None
    rest: Lowered | None = None  # what the graph does with the attention's result

    def render(self, op_name: str, config: dict[str, Any], interpreter: bool) -> str:
        spec = self.spec
        assert spec is not None
        config = self.stage_config(config)
        name = kernel_name(f"{op_name}_attention" if self.rest else op_name)
        summary = [
            f"Fused into {name}: q @ kᵀ, scale"
            + (", causal mask" if spec.causal else "")
            + ("" if not spec.mask else ", boolean mask" if spec.mask_keeps else ", additive mask")
            + ", softmax, @ v (flash attention: online softmax, scores never stored).",
            "Plan: BLOCK_Q queries x BLOCK_DV output columns per program, keys BLOCK_KV a step.",
        ]
        writers: list[Any] = [AttentionKernel(name, spec.dtype, interpreter)]
        if self.rest is None:
            forward = [*self._forward(name, config, "out"), return_line(self.traced, ["out"])]
            title = f"Triton kernel for `{op_name}`"
        else:
            rest_summary, rest_writers, rest_forward = self.rest.stage_parts(
                op_name, config, interpreter
            )
            summary += [f"  Writes {RESULT_BUFFER}; then:", *rest_summary]
            writers += rest_writers
            forward = [
                "# attention",
                *self._forward(name, config, RESULT_BUFFER),
                *rest_forward,
                return_line(self.traced, self.outputs),
            ]
            title = f"Triton kernels for `{op_name}`: an attention, then its result's stages"
        return module_source(title, self.traced, config, summary, writers, forward)

    def _forward(self, name: str, config: dict[str, Any], out: str) -> list[str]:
        """Allocate `out` and launch the attention kernel into it."""
        spec = self.spec
        assert spec is not None
        scale = " * ".join(spec.scale) or "1.0"
        four = "" if spec.rank == 4 else ".unsqueeze(1)"  # (batch, seq, dim): one head
        # 4-D views of the inputs (names of their own: an input may be called q or mask)
        lines = [
            f"{out} = torch.empty({spec.q}.shape[:-1] + ({spec.v}.shape[-1],), "
            f"device={spec.q}.device, dtype={spec.out_dtype or f'{spec.q}.dtype'})",
            f"q4, k4, v4, o4 = {spec.q}{four}, {spec.k}{four}, {spec.v}{four}, {out}{four}",
        ]
        if spec.mask:
            scores = f"{spec.q}.shape[:-1] + ({spec.k}.shape[-2],)"
            lines.append(f"m4 = {spec.mask}.expand({scores}){four}")
        else:
            lines.append("m4 = q4  # not read: no mask")
        lines += [
            f"block_d = min(max(triton.next_power_of_2(q4.shape[3]), 16), {HEAD_CHUNK})",
            "block_dv = min(max(triton.next_power_of_2(v4.shape[3]), 16), MAX_DV)",
            "grid = (triton.cdiv(q4.shape[2], BLOCK_Q), q4.shape[0] * q4.shape[1], "
            "triton.cdiv(v4.shape[3], block_dv))",
        ]
        args = ["q4", "k4", "v4", "m4", "o4", f"float({scale})", "q4.shape[1]", "q4.shape[2]"]
        args += ["k4.shape[2]", "q4.shape[3]", "v4.shape[3]"]
        args += [f"{t}4.stride({j})" for t in "qkvmo" for j in range(4)]
        args += ["BLOCK_M=BLOCK_Q", "BLOCK_N=BLOCK_KV", "BLOCK_D=block_d", "BLOCK_DV=block_dv"]
        args.append("WHOLE_HEAD=block_d >= q4.shape[3]")
        args += [f"CAUSAL={spec.causal}", f"HAS_MASK={spec.mask is not None}"]
        args.append(f"MASK_KEEPS={spec.mask_keeps}")
        args += [f"{k}={config[k]}" for k in LAUNCH_KEYS if k in config]
        lines.append(f"{name}[grid]({', '.join(args)})")
        return lines

    def design(self, op_name: str) -> str:
        spec = self.spec
        assert spec is not None
        mask = " with a causal mask" if spec.causal else ""
        if spec.mask:
            mask += " with a boolean mask" if spec.mask_keeps else " with an additive mask"
        return (
            f"Attention{mask} as one flash-attention kernel: each program takes BLOCK_Q "
            "queries of one (batch, head), walks the keys BLOCK_KV at a time, and keeps the "
            "softmax's running maximum and sum (online softmax), rescaling its fp32 "
            "accumulator when the maximum grows; the L x S scores never go to memory."
            + ("" if self.rest is None else " Then: " + self.rest.design(op_name))
        )


def _plan(spec: AttentionSpec) -> Plan:
    """The plan that names the family (its configuration list) and what was fused."""
    fused = ["bmm", "softmax", "bmm"]
    return Plan("attention", spec.rank, [], (), [], [], [], fused, [], flat=False)


def lower_attention(traced: Traced) -> Lowered | None:
    """One attention kernel for a graph that is one attention, or that attention and the
    stages of what the rest of the graph does with its result; else None."""
    spec = match_attention(traced)
    if spec is not None:
        return AttentionLowered(traced, [Stage(_plan(spec), [], [])], ["out"], spec)
    found = attention_within(traced)
    if found is None:
        return None
    spec, result = found
    try:
        rest = lower_graph(_rest_of(traced, result))
    except Unsupported:
        return None  # the partitioner names what stops the whole graph
    if type(rest) is not Lowered:
        return None  # the rest renders its own way (a fused matmul-rows, another attention)
    stages = [Stage(_plan(spec), [], [RESULT_BUFFER]), *rest.stages]
    return AttentionLowered(traced, stages, rest.outputs, spec, rest)


def _rest_of(traced: Traced, result: FxNode) -> Traced:
    """The graph with the attention's result read from its buffer (a new input)."""
    graph = Graph()
    copies: dict[FxNode, FxNode] = {}
    graph.output(graph.graph_copy(traced.graph.graph, copies))
    first = next(n for n in graph.nodes if n.op != "placeholder")
    with graph.inserting_before(first):
        read = graph.placeholder(RESULT_NODE)
    read.meta = dict(result.meta)
    copies[result].replace_all_uses_with(read)
    graph.eliminate_dead_code()
    placeholders = [*traced.placeholders, Placeholder(RESULT_NODE, RESULT_BUFFER, "buffer")]
    return replace(traced, graph=GraphModule(traced.graph, graph), placeholders=placeholders)
