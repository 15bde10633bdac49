"""Attention as flash-attention kernels: `softmax(q @ kᵀ * scale [+ mask]) @ v` and
`F.scaled_dot_product_attention`, matched by attention_match.py; the kernels' source is in
attention_kernels.py.

`ModelNew.forward` launches the flash kernel while the head is at most `widest_flash_head`,
else the wide heads' three kernels (scores, softmax, @ v). An attention whose result the
rest of the graph reads is the first stage: its buffer is laid out in the order the rest
permutes it (a transformer's heads merged before the projection), so that view and the
reshape after it are free instead of a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch.fx import Graph, GraphModule
from torch.fx import Node as FxNode

from agents.builtin.attention_kernels import (
    LOG2E,
    SOFTMAX_BLOCK,
    WIDE_BLOCK_D,
    attention_kernels,
    wide_kernel_names,
    widest_flash_head,
)
from agents.builtin.attention_match import AttentionSpec, attention_within, match_attention
from agents.builtin.fx_nodes import packet, shape_of
from agents.builtin.kernel_writer import INDENT
from agents.builtin.lowered import Lowered, Stage
from agents.builtin.reference import Placeholder, Traced
from agents.builtin.render import (
    kernel_name,
    launch_config_line,
    module_constants,
    module_source,
    return_line,
)
from agents.builtin.values import Plan
from agents.types import Unsupported

RESULT_NODE, RESULT_BUFFER = "attention_result", "attention_buf"
# the kernels' launch keys, named apart from the other families' num_warps/num_stages
LAUNCH_KEYS = {"attention_warps": "num_warps", "attention_stages": "num_stages"}


class AttentionKernels:
    """An attention candidate's kernels, in the writers' shape for module_source."""

    def __init__(self, name: str, dtype: torch.dtype, interpreter: bool) -> None:
        self.name = name
        self.dtype = dtype
        self.interpreter = interpreter

    def kernel(self) -> str:
        return attention_kernels(self.name, self.dtype, self.interpreter)

    def uses_multiply(self) -> bool:
        return False


@dataclass
class AttentionLowered(Lowered):
    """One attention kernel, and the stages of the graph's rest that read its result."""

    spec: AttentionSpec | None = None
    rest: Lowered | None = None  # what the graph does with the attention's result
    layout: tuple[int, ...] | None = None  # the result's dims in memory order, if not as is

    def render(self, op_name: str, config: dict[str, Any], interpreter: bool) -> str:
        spec = self.spec
        assert spec is not None
        attention_config, *rest_configs = self.stage_configs(config)
        name = kernel_name(f"{op_name}_attention" if self.rest else op_name)
        summary = [
            f"Fused into {name}: q @ kᵀ, scale"
            + (", causal mask" if spec.causal else "")
            + ("" if not spec.mask else ", boolean mask" if spec.mask_keeps else ", additive mask")
            + ", softmax, @ v (flash attention: online softmax, scores never stored).",
            "Plan: BLOCK_Q queries x BLOCK_DV output columns per program, keys BLOCK_KV a step;",
            f"  heads wider than {widest_flash_head(spec.dtype)}: the scores, a row "
            "softmax, then @ v (three kernels).",
        ]
        writers: list[Any] = [AttentionKernels(name, spec.dtype, interpreter)]
        constants = module_constants(attention_config)
        if self.rest is None:
            forward = [*self._forward(name, attention_config, "out")]
            forward.append(return_line(self.traced, ["out"]))
            title = f"Triton kernel for `{op_name}`"
        else:
            rest = self.rest.stage_parts(op_name, rest_configs, interpreter)
            summary += [f"  Writes {RESULT_BUFFER}; then:", *rest.summary]
            constants.update(rest.constants)
            writers += rest.writers
            forward = [
                "# attention",
                *self._forward(name, attention_config, RESULT_BUFFER),
                *rest.forward,
                return_line(self.traced, self.outputs),
            ]
            title = f"Triton kernels for `{op_name}`: an attention, then its result's stages"
        summary.append(launch_config_line(config))
        return module_source(title, self.traced, summary, constants, writers, forward)

    def _forward(self, name: str, config: dict[str, Any], out: str) -> list[str]:
        """Allocate `out` and launch the attention's kernels into it."""
        spec = self.spec
        assert spec is not None
        scale = " * ".join(spec.scale) or "1.0"
        four = "" if spec.rank == 4 else ".unsqueeze(1)"  # (batch, seq, dim): one head
        dtype = spec.out_dtype or f"{spec.q}.dtype"
        lines = [f"attention_shape = {spec.q}.shape[:-1] + ({spec.v}.shape[-1],)"]
        if self.layout is None:
            lines.append(
                f"{out} = torch.empty(attention_shape, device={spec.q}.device, dtype={dtype})"
            )
        else:  # laid out in the order the rest reads it: that permuted view is contiguous
            order = ", ".join(map(str, self.layout))
            inverse = ", ".join(str(self.layout.index(d)) for d in range(len(self.layout)))
            lines += [
                f"{out} = torch.empty(tuple(attention_shape[d] for d in ({order})), "
                f"device={spec.q}.device, dtype={dtype}).permute({inverse})",
            ]
        # 4-D views of the inputs (names of their own: an input may be called q or mask)
        lines.append(
            f"q4, k4, v4, o4 = {spec.q}{four}, {spec.k}{four}, {spec.v}{four}, {out}{four}"
        )
        if spec.mask:
            scores = f"{spec.q}.shape[:-1] + ({spec.k}.shape[-2],)"
            lines.append(f"m4 = {spec.mask}.expand({scores}){four}")
        else:
            lines.append("m4 = q4  # not read: no mask")
        launch = [f"{key}={config[k]}" for k, key in LAUNCH_KEYS.items() if k in config]
        masks = [f"CAUSAL={spec.causal}", f"HAS_MASK={spec.mask is not None}"]
        masks.append(f"MASK_KEEPS={spec.mask_keeps}")
        sizes = "q4.shape[1], q4.shape[2], k4.shape[2]"  # heads, queries, keys
        strides = {t: [f"{t}4.stride({j})" for j in range(4)] for t in "qkvmo"}
        blocks = ["BLOCK_M=BLOCK_Q", "BLOCK_N=BLOCK_KV"]
        flash = ["q4", "k4", "v4", "m4", "o4", "qk_scale", sizes, "q4.shape[3]", "v4.shape[3]"]
        flash += [*strides["q"], *strides["k"], *strides["v"], *strides["m"], *strides["o"]]
        flash += [*blocks, "BLOCK_D=max(triton.next_power_of_2(q4.shape[3]), 16)"]
        flash += ["BLOCK_DV=block_dv", *masks, *launch]
        scores_kernel, softmax_kernel, pv_kernel = wide_kernel_names(name)
        qk = ["q4", "k4", "m4", "attention_scores", "qk_scale", sizes, "q4.shape[3]"]
        qk += [*strides["q"], *strides["k"], *strides["m"], *blocks]
        qk += [f"BLOCK_D={WIDE_BLOCK_D}", *masks, *launch]
        pv = ["attention_scores", "v4", "o4", sizes, "v4.shape[3]", *strides["v"], *strides["o"]]
        pv += [*blocks, "BLOCK_DV=block_dv", *launch]
        rows = "triton.cdiv(q4.shape[2], BLOCK_Q)"
        widest = widest_flash_head(spec.dtype)
        return [
            *lines,
            f"qk_scale = float({scale}) * {LOG2E}  # exp2 in the kernels",
            "block_dv = min(max(triton.next_power_of_2(v4.shape[3]), 16), MAX_DV)",
            "attention_heads = q4.shape[0] * q4.shape[1]",
            f"if q4.shape[3] <= {widest}:  # flash attention: q, accumulator in registers",
            f"{INDENT}grid = ({rows}, attention_heads, triton.cdiv(v4.shape[3], block_dv))",
            f"{INDENT}{name}[grid]({', '.join(flash)})",
            "else:  # a head too wide for one program: the scores, their softmax, then @ v",
            f"{INDENT}attention_scores = torch.empty(q4.shape[:3] + (k4.shape[2],), "
            "device=q4.device, dtype=torch.float32)",
            f"{INDENT}grid = ({rows}, triton.cdiv(k4.shape[2], BLOCK_KV), attention_heads)",
            f"{INDENT}{scores_kernel}[grid]({', '.join(qk)})",
            f"{INDENT}block_s = min(triton.next_power_of_2(k4.shape[2]), {SOFTMAX_BLOCK})",
            f"{INDENT}{softmax_kernel}[(attention_heads * q4.shape[2],)]("
            "attention_scores, k4.shape[2], BLOCK_S=block_s)",
            f"{INDENT}grid = ({rows}, triton.cdiv(v4.shape[3], block_dv), attention_heads)",
            f"{INDENT}{pv_kernel}[grid]({', '.join(pv)})",
        ]

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
            "accumulator when the maximum grows; the L x S scores never go to memory. The scale "
            "is folded with log2(e) for exp2, and only the blocks that need a per-score mask "
            "(causal diagonal, ragged end) apply one. Heads wider than "
            f"{widest_flash_head(spec.dtype)}: an fp32 "
            "scores buffer, a row softmax in place, then the probabilities @ v."
            + ("" if self.rest is None else " Then: " + self.rest.design(op_name))
        )


def _plan(spec: AttentionSpec) -> Plan:
    """The plan that names the family (its configuration list: fp32 operands have their
    own, their tiles take twice the registers and shared memory) and what was fused."""
    fused = ["bmm", "softmax", "bmm"]
    family = "attention_fp32" if spec.dtype == torch.float32 else "attention"
    return Plan(family, spec.rank, [], (), [], [], [], fused, [], flat=False)


def lower_attention(traced: Traced, lower_rest: Callable[[Traced], Lowered]) -> Lowered | None:
    """One attention kernel for a graph that is one attention, or that attention and the
    stages of what the rest of the graph does with its result; else None. `lower_rest`
    lowers that rest (stages.lower_graph, which calls this: passed in, not imported)."""
    spec = match_attention(traced)
    if spec is not None:
        return AttentionLowered(traced, [Stage(_plan(spec), [], [])], ["out"], spec)
    found = attention_within(traced)
    if found is None:
        return None
    spec, result = found
    try:
        rest = lower_rest(_rest_of(traced, result))
    except Unsupported:
        return None  # the partitioner names what stops the whole graph
    if type(rest) is not Lowered:
        return None  # the rest renders its own way (a fused matmul-rows, another attention)
    stages = [Stage(_plan(spec), [], [RESULT_BUFFER]), *rest.stages]
    return AttentionLowered(traced, stages, rest.outputs, spec, rest, _read_order(result))


def _read_order(result: FxNode) -> tuple[int, ...] | None:
    """The dims of the attention's result in the order its one reader permutes them
    (`.transpose(1, 2)` before the heads are merged), or None: read as it is."""
    if len(result.users) != 1:
        return None
    reader = next(iter(result.users))
    rank = len(shape_of(result))
    order = list(range(rank))
    if packet(reader) == "permute":
        order = [d % rank for d in reader.args[1]]
    elif packet(reader) == "transpose":
        first, second = (d % rank for d in reader.args[1:3])
        order[first], order[second] = second, first
    return None if order == sorted(order) else tuple(order)


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
