"""The design step's text: what fuses into which kernel, the tiling, the passes over memory."""

from __future__ import annotations

from agents.builtin.adaptive_pooling import POOLING_OPS
from agents.builtin.conv_writer import conv_design
from agents.builtin.matmul_launch import NARROW_N, SPLIT_K_PROGRAMS
from agents.builtin.paired_statistics import statistics
from agents.builtin.reduction_schedule import reduction_passes, splittable, tiled
from agents.builtin.render import describe, kernel_name
from agents.builtin.values import FULL, Plan


def design_text(op_name: str, plan: Plan) -> str:
    """A short readable sketch of the kernel plan."""
    name = kernel_name(op_name)
    sizes = ", ".join(plan.f_sizes) or "a scalar"
    lines = [f"One fused Triton kernel, `{name}`: {describe(plan)}."]
    if plan.family == "pointwise":
        lines.append(
            f"Pointwise over the output ({sizes}): one program per BLOCK_SIZE elements, "
            "one read of each input and one write of each output (a single pass over memory)."
        )
        if not plan.flat:
            lines.append("Broadcast inputs are read through their strides (0 where broadcast).")
        if pooled := sorted(set(plan.fused) & POOLING_OPS):
            lines.append(
                f"Pooling ({', '.join(pooled)}): each output reads its window from the input, "
                "one load per window position (adaptive windows in a loop); overlapping "
                "windows re-read their neighbours' elements from cache."
            )
    elif plan.family == "conv":
        lines.append(conv_design(plan, sizes))
    elif plan.family == "matmul":
        batch = " per batch entry" if plan.rank == 3 else ""
        lines.append(
            f"Matmul tiles over the output ({sizes}){batch}: one program per BLOCK_M x BLOCK_N "
            "tile, looping over K in BLOCK_K steps with tl.dot into an fp32 accumulator; the "
            "epilogue (bias, activation, residual, clamp) runs on the accumulator before the "
            "only store, so the output is written once."
        )
        lines.append(
            f"Per call: with fewer tiles than {SPLIT_K_PROGRAMS} programs, K is cut into chunks "
            "whose partial tiles a combine kernel sums before the epilogue; with up to "
            f"{NARROW_N} columns, fp32 FMAs over 64-row blocks replace the tensor-core tile."
        )
    else:
        lines += _reduction_lines(plan)
    lines.append("Loads upcast to fp32; results are stored in the output dtype.")
    return "\n".join(lines)


def _reduction_lines(plan: Plan) -> list[str]:
    """Passes over each row and which kernel takes which rows."""
    sizes = ", ".join(plan.f_sizes)
    passes = len(set(reduction_passes(plan.reductions).values()))
    fused = len(set(reduction_passes(plan.reductions, fused=True).values()))
    stores = any(o.value.level == FULL for o in plan.outputs)
    lines = [
        f"Reduction over dims {list(plan.reduced)} of ({sizes}). {passes} dependent reduction "
        "pass(es)"
        + (" and a final pass that stores the full-size output" if stores else "")
        + f": {passes + stores} pass(es) over each row."
    ]
    if fused < passes:
        names = {"welford": "mean and variance (Welford)", "softmax": "max and sum of exp (online)"}
        kinds = sorted({names[s.kind] for s in statistics(plan.reductions).values()})
        lines.append(
            f"Kernels that walk rows from memory gather {' and '.join(kinds)} in one pass, so "
            f"they read each row {fused + stores} time(s)."
        )
    if tiled(plan):
        lines.append(
            "Rows run along the innermost dim, so programs take neighbouring rows (coalesced "
            "loads): at least 16 held in registers when R fits PERSISTENT_R, else TILE_K rows "
            "walking R in TILE_R steps."
        )
    else:
        lines.append(
            "One program per row, or per pack of short rows (about PACK_BLOCK elements). Rows "
            "up to PERSISTENT_R elements are held in registers, so memory is read once and "
            "written once; longer rows are walked in BLOCK_R steps by the looped kernel."
        )
    if splittable(plan):
        lines.append(
            "With fewer programs than SPLIT_PROGRAMS, R is cut into chunks reduced by separate "
            "programs and a second kernel merges the partial results"
            + (" and stores the output chunk by chunk." if stores else ".")
        )
    return lines
