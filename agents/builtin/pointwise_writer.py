"""The pointwise kernel, shaped like the Triton vector-add tutorial: one program per
BLOCK_SIZE output elements, each loaded, computed and stored once.

A plan with row tiles (pools: each output reads a window of its row) takes a tile of
BLOCK_ROWS rows by BLOCK_COLS positions of the last dim per program instead: the last
dim's index is the program's block plus a range, contiguous, with no division, so the
window's loads are the same addresses shifted by constants.
"""

from __future__ import annotations

from agents.builtin.kernel_writer import KernelWriter
from agents.builtin.values import Plan


class PointwiseWriter(KernelWriter):
    def _write_body(self) -> None:
        if self.plan.row_tiles:
            self._tile_rows()
        else:
            self.body += [
                "pid = tl.program_id(axis=0)",
                "offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)",
                "mask = offsets < n_elements",
            ]
            if not self.plan.flat:
                self._decompose("offsets", list(range(self.plan.rank)), self.body)
        self._store_outputs("mask")

    def _tile_rows(self) -> None:
        last = self.plan.rank - 1
        self.body += [
            "rows = tl.program_id(axis=0) * BLOCK_ROWS + tl.arange(0, BLOCK_ROWS)[:, None]",
            f"i{last} = tl.program_id(axis=1) * BLOCK_COLS + tl.arange(0, BLOCK_COLS)[None, :]",
            "row_mask = rows < n_rows",
            f"mask = row_mask & (i{last} < n{last})",
        ]
        self._decompose("rows", list(range(last)), self.body)

    def _extent_params(self) -> list[tuple[str, str]]:
        return [("n_rows", "n_rows")] if self.plan.row_tiles else [("n_elements", "n_elements")]


def row_tile_launch_lines(plan: Plan) -> list[str]:
    """Host lines that size a row-tiled launch: BLOCK_SIZE elements per program, as many of
    the last dim as it has up to that (more where the grid's second axis, at most 65535
    programs, would not cover it), the rest of the block in rows."""
    rows = " * ".join(f"({size})" for size in plan.f_sizes[:-1])
    return [
        f"n_cols = max({plan.f_sizes[-1]}, 1)",
        f"n_rows = {rows}",
        "block_cols = min(triton.next_power_of_2(n_cols), BLOCK_SIZE)",
        "block_cols = max(block_cols, triton.next_power_of_2(triton.cdiv(n_cols, 65535)))",
        "block_rows = max(BLOCK_SIZE // block_cols, 1)",
        "grid = (triton.cdiv(n_rows, block_rows), triton.cdiv(n_cols, block_cols))",
    ]
