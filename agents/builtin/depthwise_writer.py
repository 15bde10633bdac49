"""The row-tiled depthwise kernel (`direct_rows`, conv_forms.py): a program per (image, output
channel) plane takes ROWS output rows by BLOCK_W output columns, the window unrolled (the
tap sizes are `tl.constexpr`), the plane's weights loaded as scalars. The columns are the
program's block plus a range (no division by the output width), so a tap's loads are one
row address shifted by a constant, contiguous and, at shift 0 on an aligned row, 16-byte
vectors; a tap's column mask bounds the input row only (columns past the output's are
never stored), which keeps that alignment. The plan's epilogue (bias, activation, ...) runs
on the fp32 accumulator before the one store. From benchmarks/gpu/depthwise_rows.py.

It serves 2-D convolutions, not transposed, with stride 1 along the width (any kernel size,
padding, dilation and stride along the height) and one input channel per group (depthwise,
with any channel multiplier: output channel c reads input channel c // COUT_G); the host
picks it per call where the weight has one input channel per group, else the direct kernel.
"""

from __future__ import annotations

from agents.builtin.conv_forms import ConvForm
from agents.builtin.kernel_writer import INDENT, KernelWriter
from agents.builtin.values import Conv, Plan

ROWS_BLOCKS = ["ROWS", "BLOCK_W"]
GRID_AXIS_LIMIT = 65535  # CUDA's limit on grid axes 1 and 2


def rows_serve(conv: Conv, spatial: int) -> bool:
    """Whether the row-tiled kernel computes this convolution (given one input channel a
    group, which the host checks per call)."""
    return spatial == 2 and not conv.transposed and conv.stride[1] == 1


class DepthwiseRowsWriter(KernelWriter):
    def __init__(self, plan: Plan, kernel_name: str, interpreter: bool = False) -> None:
        super().__init__(plan, kernel_name, ROWS_BLOCKS, interpreter)
        assert plan.conv is not None and rows_serve(plan.conv, plan.rank - 2)
        self.conv = plan.conv

    def _extent_params(self) -> list[tuple[str, str]]:
        c = self.conv
        sizes = [("COUT_G", f"{c.w}.shape[0] // {c.groups}")]
        sizes += [(f"KS{d}", f"{c.w}.shape[{2 + d}]") for d in range(2)]
        return sizes + [(f"XS{d}", f"{c.x}.shape[{2 + d}]") for d in range(2)]

    def _constant_sizes(self) -> set[str]:
        """The taps unrolled, the channel multiplier divided by, the output rows and columns
        bounding the stores."""
        return {"COUT_G", "KS0", "KS1", "n2", "n3"}

    def _write_body(self) -> None:
        c, x, w, i = self.conv, self.conv.x, self.conv.w, INDENT
        (s, _), (p_row, p_col), (d_row, d_col) = c.stride, c.padding, c.dilation
        row = f"o2 * {s}" if s > 1 else "o2"
        row += (f" - {p_row}" if p_row else "") + " + t0" + (f" * {d_row}" if d_row > 1 else "")
        col = (
            "o3" + (f" - {p_col}" if p_col else "") + " + t1" + (f" * {d_col}" if d_col > 1 else "")
        )
        row_valid = ["m_mask", *(["(p0 >= 0)"] if p_row else []), "(p0 < XS0)"]
        col_valid = [*(["(p1 >= 0)"] if p_col else []), "(p1 < XS1)"]
        self.body += [
            "plane = tl.program_id(axis=0)",
            "batch = plane // n1",
            "channel = plane % n1",
            "o2 = tl.program_id(axis=1) * ROWS + tl.arange(0, ROWS)[:, None]",
            "o3 = tl.program_id(axis=2) * BLOCK_W + tl.arange(0, BLOCK_W)[None, :]",
            "m_mask = o2 < n2",
            f"x_plane = {x}_ptr + batch * {x}_s0 + (channel // COUT_G) * {x}_s1",
            f"w_plane = {w}_ptr + channel * {w}_s0",
            "acc = tl.zeros((ROWS, BLOCK_W), dtype=tl.float32)",
            "# the window unrolled; a tap's column mask bounds the input row only (columns",
            "# past the output's are never stored), keeping its loads aligned where the row is",
            "for t0 in tl.static_range(KS0):",
            f"{i}p0 = {row}",
            f"{i}x_mask = " + " & ".join(row_valid),
            f"{i}for t1 in tl.static_range(KS1):",
            f"{i}{i}p1 = {col}",
            f"{i}{i}w_tap = tl.load(w_plane + t0 * {w}_s2 + t1 * {w}_s3).to(tl.float32)",
            f"{i}{i}x_tile = tl.load(x_plane + p0 * {x}_s2 + p1 * {x}_s3, "
            f"mask=x_mask & {' & '.join(col_valid)}, other=0.0)",
            f"{i}{i}acc += x_tile.to(tl.float32) * w_tap",
        ]
        self._epilogue()

    def _epilogue(self) -> None:
        """The plan's pointwise work on the fp32 accumulator, then the stores; the plane's
        batch and channel as [1, 1] blocks, so that a per-channel load (the bias) is a block
        that the output's mask broadcasts over."""
        self.body += [
            "# epilogue on the fp32 accumulator",
            "i0 = tl.zeros((1, 1), dtype=tl.int32) + batch",
            "i1 = tl.zeros((1, 1), dtype=tl.int32) + channel",
            "i2 = o2",
            "i3 = o3",
            "mask = m_mask & (o3 < n3)",
        ]
        self._store_outputs("mask")


def rows_launch(plan: Plan, form: ConvForm) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """The host's condition for the row-tiled kernel (one input channel a group, its grid
    within CUDA's limits), its grid line, constexprs and launch options."""
    assert form.direct_rows is not None
    rows, block_w, warps = form.direct_rows
    batch, channels, height, width = (f"({size})" for size in plan.f_sizes)
    row_blocks, col_blocks = f"triton.cdiv({height}, {rows})", f"triton.cdiv({width}, {block_w})"
    limit = f"max({row_blocks}, {col_blocks}) <= {GRID_AXIS_LIMIT}"
    grid = f"grid = ({batch} * {channels}, {row_blocks}, {col_blocks})"
    blocks = {"ROWS": str(rows), "BLOCK_W": str(block_w)}
    return f"cin_g == 1 and {limit}", grid, blocks, {"num_warps": str(warps)}
