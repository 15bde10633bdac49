"""The design step's text: what fuses into which kernel, the tiling, the passes over memory."""

from __future__ import annotations

from agents.builtin.kernel_writer import reduction_passes, splittable, tiled
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
    elif plan.family == "matmul":
        batch = " per batch entry" if plan.rank == 3 else ""
        lines.append(
            f"Matmul tiles over the output ({sizes}){batch}: one program per BLOCK_M x BLOCK_N "
            "tile, looping over K in BLOCK_K steps with tl.dot into an fp32 accumulator; the "
            "epilogue (bias, activation, residual, clamp) runs on the accumulator before the "
            "only store, so the output is written once."
        )
    else:
        passes = len(set(reduction_passes(plan.reductions).values()))
        stores = any(o.value.level == FULL for o in plan.outputs)
        total = passes + (1 if stores else 0)
        lines.append(
            f"Reduction over dims {list(plan.reduced)} of ({sizes}). "
            f"{passes} dependent reduction pass(es)"
            + (" and a final pass that stores the full-size output" if stores else "")
            + f": {total} pass(es) over each row."
        )
        if tiled(plan):
            lines.append(
                "Rows run along the innermost dim, so each program takes TILE_K neighbouring "
                "rows and walks them together in TILE_R steps (coalesced loads)."
            )
        else:
            lines.append(
                "One program per row. Rows up to PERSISTENT_R elements are held in registers "
                "by a one-block kernel, so memory is read once and written once; longer rows "
                "are walked in BLOCK_R chunks by the looped kernel, re-reading each pass."
                + (
                    " With fewer rows than SPLIT_ROWS, each row is cut into chunks reduced by "
                    "separate programs and a second kernel combines the partial results."
                    if splittable(plan)
                    else ""
                )
            )
    lines.append("Loads upcast to fp32; results are stored in the output dtype.")
    return "\n".join(lines)
