"""The matmul kernels, shaped like the Triton matmul tutorial: one program per BLOCK_M x
BLOCK_N output tile (grouped so neighbouring programs share operands in L2), a K loop into
an fp32 accumulator, then the plan's pointwise epilogue on that accumulator.

The main kernel takes two compile-time switches the host sets per launch (see
matmul_launch.py): NARROW, a product with few columns (a matrix-vector product), summed
with FMAs over a [BLOCK_M, BLOCK_K, BLOCK_N] block instead of a tensor-core tile; and
SPLIT, where each program sums one chunk of K and stores its partial tile, and the
combine kernel sums the chunks' partials and runs the epilogue.
"""

from __future__ import annotations

import torch

from agents.builtin.kernel_writer import INDENT, KernelWriter
from agents.builtin.values import Dot, Plan

TILE_KEYS = ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M")
SWITCHES = ("NARROW", "SPLIT")  # the main kernel's per-launch constexprs


def grouped_tiles(rows: str, cols: str) -> list[str]:
    """This program's BLOCK_M x BLOCK_N tile (offs_m, offs_n) of a rows x cols output, tiles
    taken in groups of GROUP_M rows so that neighbouring programs share operands in L2."""
    return [
        f"num_pid_m = tl.cdiv({rows}, BLOCK_M)",
        f"num_pid_n = tl.cdiv({cols}, BLOCK_N)",
        "num_pid_in_group = GROUP_M * num_pid_n",
        "first_pid_m = (pid // num_pid_in_group) * GROUP_M",
        "group_size_m = tl.minimum(num_pid_m - first_pid_m, GROUP_M)",
        "pid_m = first_pid_m + (pid % num_pid_in_group) % group_size_m",
        "pid_n = (pid % num_pid_in_group) // group_size_m",
        "offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)",
        "offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)",
    ]


class MatmulWriter(KernelWriter):
    """mode "main": the K loop (whole, or one chunk of it under SPLIT); "combine": the sum
    of the chunks' partial tiles, then the epilogue."""

    def __init__(
        self,
        plan: Plan,
        kernel_name: str,
        constexprs: list[str],
        interpreter: bool = False,
        mode: str = "main",
    ) -> None:
        tiles = [k for k in constexprs if k in TILE_KEYS]
        switches = list(SWITCHES) if mode == "main" else []
        super().__init__(plan, kernel_name, tiles + switches, interpreter)
        self.mode = mode

    def _extent_params(self) -> list[tuple[str, str]]:
        chunks = ("k_chunk", "k_chunk") if self.mode == "main" else ("split", "split")
        return [("part_ptr", "part"), chunks]

    def _write_body(self) -> None:
        dot = self.plan.dot
        assert dot is not None
        rank = self.plan.rank
        m, n = rank - 2, rank - 1
        self.body += [
            "# tiles in groups of GROUP_M rows, so neighbouring programs share operands in L2",
            "pid = tl.program_id(axis=0)",
            *(["pid_b = tl.program_id(axis=1)"] if rank == 3 else []),
            *grouped_tiles(f"n{m}", f"n{n}"),
        ]
        # partial tiles: [split, batch, rows, cols] in fp32
        batch = "n0" if rank == 3 else "1"
        b = "pid_b" if rank == 3 else "0"
        part = f"part_ptr + (({{chunk}} * {batch} + {b}) * n{m} + offs_m[:, None]) * n{n}"
        part += " + offs_n[None, :]"
        tile_mask = f"(offs_m[:, None] < n{m}) & (offs_n[None, :] < n{n})"
        if self.mode == "combine":
            self.body += [
                "# the sum of the K chunks' partial tiles",
                "acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)",
                "for s in range(0, split):",
                f"{INDENT}acc += tl.load({part.format(chunk='s')}, mask={tile_mask}, other=0.0)",
            ]
            self._epilogue(rank, m, n, "")
            return
        self.body.append("offs_k = tl.arange(0, BLOCK_K)")
        self._k_loop(dot, m, n)
        self.body += [
            "if SPLIT:",
            f"{INDENT}# this K chunk's partial tile; the combine kernel sums the chunks",
            f"{INDENT}tl.store({part.format(chunk='pid_k')}, acc, mask={tile_mask})",
            "else:",
        ]
        self._epilogue(rank, m, n, INDENT)

    def _k_loop(self, dot: Dot, m: int, n: int) -> None:
        """Accumulate the tile's A @ B products over this program's K chunk, BLOCK_K a step."""
        skip = [
            "# a tile the mask zeroes entirely skips its products",
            f"if {dot.zero_tiles}:",
            f"{INDENT}k_end = k_start",
        ]
        skip = skip if dot.zero_tiles else []
        self.body += [
            "acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)",
            "pid_k = tl.program_id(axis=2)",
            "k_start = pid_k * k_chunk",
            "k_end = tl.minimum(k_start + k_chunk, K)",
            *skip,
            "for k0 in range(k_start, k_end, BLOCK_K):",
            INDENT + "k = k0 + offs_k",
        ]
        role_a = {"b": "pid_b", "m": "offs_m[:, None]", "k": "k[None, :]"}
        role_b = {"b": "pid_b", "k": "k[:, None]", "n": "offs_n[None, :]"}
        mask_a = f"(offs_m[:, None] < n{m}) & (k[None, :] < K)"
        mask_b = f"(k[:, None] < K) & (offs_n[None, :] < n{n})"
        for var, operand, roles, mask in (
            ("a", dot.a, role_a, mask_a),
            ("b", dot.b, role_b, mask_b),
        ):
            terms = " + ".join(
                f"{roles[r]} * {operand.source}_s{j}" for j, r in enumerate(operand.roles)
            )
            self.body.append(
                f"{INDENT}{var} = tl.load({operand.source}_ptr + {terms}, mask={mask}, other=0.0)"
            )
        a_src = next(s for s in self.plan.sources if s.name == dot.a.source)
        precision = ""
        if a_src.dtype == torch.float32:
            # fp32 operands: three TF32 tensor-core products (hi*hi + hi*lo + lo*hi) keep
            # fp32-level accuracy at tensor-core speed; the interpreter computes exactly
            mode = "ieee" if self.interpreter else "tf32x3"
            self.body.append(f"{INDENT}# fp32 operands: input_precision={mode!r}")
            precision = f", input_precision={mode!r}"
        self.body += [
            f"{INDENT}if NARROW:",
            f"{INDENT * 2}# few columns: fp32 FMAs over the block, no tensor-core tile",
            f"{INDENT * 2}a = a.to(tl.float32)",
            f"{INDENT * 2}acc += tl.sum(a[:, :, None] * b.to(tl.float32)[None, :, :], axis=1)",
            f"{INDENT}else:",
        ]
        if self.interpreter and a_src.dtype == torch.bfloat16:
            self.body.append(
                f"{INDENT * 2}# the Triton interpreter has no bf16 tl.dot: widen first"
            )
            self.body.append(f"{INDENT * 2}a = a.to(tl.float32)")
            self.body.append(f"{INDENT * 2}b = b.to(tl.float32)")
        self.body.append(f"{INDENT * 2}acc = tl.dot(a, b, acc{precision})")

    def _epilogue(self, rank: int, m: int, n: int, indent: str) -> None:
        """The plan's pointwise work on the fp32 accumulator, then the stores."""
        start = len(self.body)
        self.body += [
            "# epilogue on the fp32 accumulator",
            *([f"i{rank - 3} = pid_b"] if rank == 3 else []),
            f"i{m} = offs_m[:, None]",
            f"i{n} = offs_n[None, :]",
            f"mask = (i{m} < n{m}) & (i{n} < n{n})",
        ]
        for out in self.plan.outputs:
            value = self.emit(out.value, self.row)
            self.body.append(self._store(out, value, "mask"))
        self.body[start:] = [indent + line for line in self.body[start:]]
