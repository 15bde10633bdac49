"""The matmul kernels, shaped like the Triton matmul tutorial: one program per BLOCK_M x
BLOCK_N output tile (grouped so neighbouring programs share operands in L2), a K loop into
an fp32 accumulator, then the plan's pointwise epilogue on that accumulator.

The main kernel takes three compile-time switches the host sets per launch (see
matmul_launch.py): NARROW, a product with few columns (a matrix-vector product), summed
with FMAs over a [BLOCK_M, BLOCK_K, BLOCK_N] block instead of a tensor-core tile; SPLIT,
where each program sums one chunk of K and stores its partial tile, and the combine kernel
sums the chunks' partials and runs the epilogue; and EVEN_K, K a multiple of BLOCK_K, where
no load is masked along K (otherwise only the last, partial K step is).
"""

from __future__ import annotations

import torch

from agents.builtin.kernel_writer import INDENT, KernelWriter
from agents.builtin.values import Dot, Plan

TILE_KEYS = ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M")
SWITCHES = ("NARROW", "SPLIT", "EVEN_K")  # the main kernel's per-launch constexprs


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
        fp32_dot: str = "tf32x3",
    ) -> None:
        tiles = [k for k in constexprs if k in TILE_KEYS]
        switches = list(SWITCHES) if mode == "main" else []
        super().__init__(plan, kernel_name, tiles + switches, interpreter)
        self.mode = mode
        self.fp32_dot = "ieee" if interpreter else fp32_dot

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
        """Accumulate the tile's A @ B products over this program's K chunk, BLOCK_K a step:
        whole steps load with the row and column masks only, and the last, partial step
        (none under EVEN_K, K a multiple of BLOCK_K) is masked along K too."""
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
            "# whole BLOCK_K steps: no mask along K",
            "k_whole = k_end",
            "if not EVEN_K:",
            f"{INDENT}k_whole = k_start + (k_end - k_start) // BLOCK_K * BLOCK_K",
            "for k0 in range(k_start, k_whole, BLOCK_K):",
        ]
        rows, cols = f"(offs_m[:, None] < n{m})", f"(offs_n[None, :] < n{n})"
        self._step(dot, INDENT, rows, cols)
        self.body += [
            "if not EVEN_K:",
            f"{INDENT}# the last, partial K step, masked along K",
            f"{INDENT}if k_whole < k_end:",
            f"{INDENT * 2}k0 = k_whole",
        ]
        self._step(dot, INDENT * 2, f"{rows} & (k[None, :] < K)", f"(k[:, None] < K) & {cols}")

    def _step(self, dot: Dot, indent: str, mask_a: str, mask_b: str) -> None:
        """One BLOCK_K step at k0: load the A and B tiles under their masks, accumulate."""
        role_a = {"b": "pid_b", "m": "offs_m[:, None]", "k": "k[None, :]"}
        role_b = {"b": "pid_b", "k": "k[:, None]", "n": "offs_n[None, :]"}
        self.body.append(indent + "k = k0 + offs_k")
        for var, operand, roles, mask in (
            ("a", dot.a, role_a, mask_a),
            ("b", dot.b, role_b, mask_b),
        ):
            terms = " + ".join(
                f"{roles[r]} * {operand.source}_s{j}" for j, r in enumerate(operand.roles)
            )
            self.body.append(
                f"{indent}{var} = tl.load({operand.source}_ptr + {terms}, mask={mask}, other=0.0)"
            )
        a_src = next(s for s in self.plan.sources if s.name == dot.a.source)
        precision = ""
        if a_src.dtype == torch.float32:
            # fp32 operands: "tf32x3", three TF32 tensor-core products (hi*hi + hi*lo +
            # lo*hi), keeps fp32-level accuracy at tensor-core speed; "ieee" is fp32 FMAs;
            # the interpreter computes exactly
            self.body.append(f"{indent}# fp32 operands: input_precision={self.fp32_dot!r}")
            precision = f", input_precision={self.fp32_dot!r}"
        inner = indent + INDENT
        self.body += [
            f"{indent}if NARROW:",
            f"{inner}# few columns: fp32 FMAs over the block, no tensor-core tile",
            f"{inner}a = a.to(tl.float32)",
            f"{inner}acc += tl.sum(a[:, :, None] * b.to(tl.float32)[None, :, :], axis=1)",
            f"{indent}else:",
        ]
        if self.interpreter and a_src.dtype == torch.bfloat16:
            self.body.append(f"{inner}# the Triton interpreter has no bf16 tl.dot: widen first")
            self.body.append(f"{inner}a = a.to(tl.float32)")
            self.body.append(f"{inner}b = b.to(tl.float32)")
        self.body.append(f"{inner}acc = tl.dot(a, b, acc{precision})")

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
        self._store_outputs("mask")
        self.body[start:] = [indent + line for line in self.body[start:]]
