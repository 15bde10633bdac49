"""Attention as one flash-attention kernel: written out and scaled_dot_product_attention;
heads too wide for it as three kernels; an attention followed by the rest's stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from torch.utils._python_dispatch import TorchDispatchMode

from agents.builtin.attention import AttentionLowered
from agents.builtin.attention_match import match_attention
from agents.builtin.reference import trace_reference
from agents.builtin.stages import lower_graph
from tests.agents.builtin.builtin_harness import (
    aikg_verify,
    check,
    full_size_launches,
    generate,
    task,
)

# the interpreter evaluates masked-off lanes too (exp(-inf) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

QKV = "q, k, v"
KERNELBENCH_FORM = Path(__file__).parent / "tasks" / "sdpa_kernelbench_form.py"


def _qkv(shape: str, dtype: str = "torch.float32", keys: str = "") -> str:
    """q, k, v of a shape; keys: another (batch.., seq, dim) for k and v."""
    kv = keys or shape
    return ", ".join(f"torch.randn({s}, dtype={dtype})" for s in (shape, kv, kv))


ATTENTION = {
    "sdpa": dict(expr="F.scaled_dot_product_attention(q, k, v)", inputs=_qkv("2, 2, 20, 16")),
    "sdpa_causal_fp16": dict(
        expr="F.scaled_dot_product_attention(q, k, v, is_causal=True)",
        inputs=_qkv("1, 2, 20, 16", "torch.float16"),
    ),
    "sdpa_bf16_fewer_keys": dict(
        expr="F.scaled_dot_product_attention(q, k, v)",
        inputs=_qkv("1, 2, 20, 16", "torch.bfloat16", keys="1, 2, 9, 16"),
    ),
    "written_out_3d_scaled": dict(
        expr="torch.softmax(torch.bmm(q, k.transpose(1, 2)) / 4.0, dim=-1) @ v",
        inputs=_qkv("2, 12, 16"),
    ),
    "additive_mask": dict(
        expr="F.scaled_dot_product_attention(q, k, v, attn_mask=m)",
        inputs=_qkv("1, 2, 12, 16") + ", torch.randn(12, 12)",
        args="q, k, v, m",
    ),
    "boolean_mask": dict(
        expr="F.scaled_dot_product_attention(q, k, v, attn_mask=m)",
        inputs=_qkv("1, 2, 12, 16") + ", torch.rand(2, 12, 12) > 0.3",
        args="q, k, v, m",
    ),
    "written_out_masked_fill_causal_fp16": dict(
        expr="torch.softmax((q @ k.transpose(-2, -1) * 0.25).masked_fill("
        "torch.tril(torch.ones(12, 12, device=q.device)) == 0, float('-inf')), dim=-1) @ v",
        inputs=_qkv("1, 2, 12, 16", "torch.float16"),
    ),
    "written_out_masked_fill_given_mask": dict(
        expr="torch.softmax((q @ k.transpose(-2, -1)).masked_fill(m == 0, float('-inf')), -1) @ v",
        inputs=_qkv("2, 12, 16") + ", (torch.rand(2, 12, 12) > 0.3).float()",
        args="q, k, v, m",
    ),
    # q, k, v cast to fp16 in forward: the kernel reads fp32, the result is fp16
    "written_out_cast_to_fp16": dict(
        expr="torch.softmax(q.half() @ k.half().transpose(1, 2), dim=-1) @ v.half()",
        inputs=_qkv("2, 12, 16"),
    ),
    # fp32 heads past 128 take the three kernels (see WIDE); 16-bit ones stay in the flash
    # kernel, the output wider than one program's columns
    "wide_head": dict(expr="F.scaled_dot_product_attention(q, k, v)", inputs=_qkv("1, 1, 6, 160")),
    "wide_head_fp16": dict(
        expr="F.scaled_dot_product_attention(q, k, v)", inputs=_qkv("1, 1, 6, 160", "torch.float16")
    ),
    # past the first block of queries: the causal walk's unmasked keys, then its diagonal
    "sdpa_causal_past_one_block_fp16": dict(
        expr="F.scaled_dot_product_attention(q, k, v, is_causal=True)",
        inputs=_qkv("1, 1, 136, 16", "torch.float16"),
    ),
    # full blocks of keys unmasked, then a ragged last one
    "sdpa_keys_past_one_block": dict(
        expr="F.scaled_dot_product_attention(q, k, v)",
        inputs=_qkv("1, 2, 20, 16", keys="1, 2, 136, 16"),
    ),
}


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_attention_matches_reference(name: str, tmp_path: Path) -> None:
    source = task(**{"args": QKV, **ATTENTION[name]})
    lowered = lower_graph(trace_reference(source, "torch"))
    assert isinstance(lowered, AttentionLowered) and lowered.rest is None  # one kernel
    check(source, tmp_path, name)


QKV_SMALL = _qkv("1, 2, 8, 16")
# an attention on the inputs, then stages that read its result from a buffer
ATTENTION_THEN = {
    "sdpa_then_scale_and_residual_fp16": (
        # fp16: SDPA traces through fp32 casts, one of them dead
        dict(
            expr="F.scaled_dot_product_attention(q, k, v) * 2 + q",
            inputs=_qkv("1, 2, 8, 16", "torch.float16"),
        ),
        ["attention", "pointwise"],
    ),
    "sdpa_then_heads_merged_and_projected": (
        dict(
            expr="self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2)"
            ".reshape(1, 8, 32))",
            body="self.proj = nn.Linear(32, 20)",
            inputs=QKV_SMALL,
        ),
        ["attention_fp32", "matmul"],
    ),
    # the buffer laid out (batch, seq, heads, dim) for the transpose; the norm reads it so
    "sdpa_heads_merged_then_layer_norm": (
        dict(
            expr="F.layer_norm(F.scaled_dot_product_attention(q, k, v).transpose(1, 2)"
            ".reshape(1, 8, 32), (32,))",
            inputs=QKV_SMALL,
        ),
        ["attention_fp32", "reduction"],
    ),
    "sdpa_then_layer_norm": (
        dict(
            expr="F.layer_norm(F.scaled_dot_product_attention(q, k, v) + q, (16,))",
            inputs=QKV_SMALL,
        ),
        ["attention_fp32", "reduction"],
    ),
}


@pytest.mark.parametrize("name", sorted(ATTENTION_THEN))
def test_attention_then_its_result_s_stages(name: str, tmp_path: Path) -> None:
    case, families = ATTENTION_THEN[name]
    source = task(**{"args": QKV, **case})
    assert match_attention(trace_reference(source, "torch")) is None  # not only attention
    lowered = lower_graph(trace_reference(source, "torch"))
    assert [stage.plan.family for stage in lowered.stages] == families
    check(source, tmp_path, name)


def test_kernelbench_form_matches_reference(tmp_path: Path) -> None:
    source = KERNELBENCH_FORM.read_text()
    assert isinstance(lower_graph(trace_reference(source, "torch")), AttentionLowered)
    check(source, tmp_path, "sdpa")


# heads wider than the flash kernel holds (KernelBench level 1 task 97: 1024)
WIDE = {
    "sdpa": dict(expr="F.scaled_dot_product_attention(q, k, v)", inputs=_qkv("1, 2, 6, 288")),
    # keys past one block: a tile wholly in the causal future skips its products
    "sdpa_causal_fp16": dict(
        expr="F.scaled_dot_product_attention(q, k, v, is_causal=True)",
        inputs=_qkv("1, 1, 70, 272", "torch.float16"),
    ),
    "boolean_mask": dict(
        expr="F.scaled_dot_product_attention(q, k, v, attn_mask=m)",
        inputs=_qkv("1, 2, 12, 260") + ", torch.rand(2, 12, 12) > 0.3",
        args="q, k, v, m",
    ),
}
WIDE_KERNELS = ["op_scores_kernel", "op_softmax_kernel", "op_pv_kernel"]


@pytest.mark.parametrize("name", sorted(WIDE))
def test_wide_heads_take_scores_softmax_and_pv_kernels(name: str, tmp_path: Path) -> None:
    source = task(**{"args": QKV, **WIDE[name]})
    launched = [kernel for kernel, _, _ in full_size_launches(source, tmp_path)]
    assert launched == WIDE_KERNELS
    check(source, tmp_path, "op")


def test_wide_head_candidate_passes_the_verifier(tmp_path: Path) -> None:
    """The real `aikg verify` in a subprocess: fp32 tolerance, fresh inputs, the interpreter."""
    source = task(**{"args": QKV, **WIDE["sdpa"]})
    assert aikg_verify(source, generate(source).code, tmp_path)["passed"] is True


class _HostOps(TorchDispatchMode):
    """The aten ops the host code runs (the kernels are recorded, not run)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.ops.append(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


PROJECTED = (
    "self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(2, 256, 512))"
)
PROJECTION = "self.proj = nn.Linear(512, 512, dtype=torch.float16)"


def test_heads_merged_for_the_projection_without_a_copy(tmp_path: Path) -> None:
    """The attention writes its buffer in the layout the projection reads (no copy on the
    host), and the projection's matmul launches as it does in a candidate of its own."""
    qkv = _qkv("2, 8, 256, 64", "torch.float16")
    source = task(PROJECTED, inputs=qkv, args=QKV, body=PROJECTION)
    with _HostOps() as host:
        launches = full_size_launches(source, tmp_path)
    assert not {"aten.clone", "aten.copy_", "aten.contiguous"} & set(host.ops)
    alone = task(
        "self.proj(x.transpose(1, 2).reshape(2, 256, 512))",
        inputs="torch.randn(2, 8, 256, 64, dtype=torch.float16)",
        body=PROJECTION,
    )
    (projection,) = [options for _, _, options in full_size_launches(alone, tmp_path)]
    attention, matmul = [options for _, _, options in launches]
    assert matmul == projection
    assert {"num_warps", "num_stages"} <= set(attention)
