"""The convolution kernels and their launch.

`gemm`: an implicit GEMM per group, (output pixels) x (C_in/groups * taps) times
(C_in/groups * taps) x (C_out/groups), with tl.dot into an fp32 accumulator. No im2col
buffer: each A tile is gathered from the input by index arithmetic (pixel -> batch and
output position, k -> input channel and tap, position = out * stride - pad + tap *
dilation; a transposed convolution reads the gather form, position = (out + pad - tap *
dilation) / stride where it divides). `direct`: for few channels per group (depthwise),
each program takes BLOCK_M pixels x BLOCK_N output channels and accumulates one
multiply-add per (input channel, tap): no tensor-core tile is wasted on a 1-wide GEMM.
The plan's pointwise epilogue (bias, activation, ...) runs on the accumulator before the
one store.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from agents.builtin.conv_forms import ConvForm, conv_form
from agents.builtin.depthwise_writer import DepthwiseRowsWriter, rows_launch, rows_serve
from agents.builtin.kernel_writer import INDENT, KernelWriter
from agents.builtin.matmul_writer import grouped_tiles
from agents.builtin.values import Conv, Plan

# fewer output channels per group, or a shorter GEMM K, than this: the direct kernel
DIRECT_BELOW = 16
GEMM_BLOCKS = ["BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M"]
DIRECT_BLOCKS = ["BLOCK_M", "BLOCK_N"]
DEFAULT_FORM = ConvForm()


# tiles are (channels, pixels): pixels, contiguous along a row of NCHW, are the last dim, the
# one Triton's default layout spreads a warp's threads along, so loads and stores coalesce
TILE_NOTE = "# tiles are (output channels, pixels): a warp's threads run along the pixels"

# Triton orders a store's threads by the contiguity its axis analysis proves along each dim of
# the pointer, and breaks a tie (1 and 1: an odd row length) by version: 3.9 the last dim (the
# pixels), 3.6 the first (the channels: 32 separate 4-byte stores a warp in NCHW). Rows walked
# padded to an even length prove the pixels contiguous in pairs, so both versions run a warp
# along the pixels; the padding's position is masked. Rows shorter than this stay odd: one
# padded position in fewer than PAD_ROWS_FROM + 1 would waste more than a tenth of the tiles.
PAD_ROWS_FROM = 9


def padded_row(extent: str) -> str:
    """The positions walked along a row of `extent`: odd ones of PAD_ROWS_FROM or more padded
    to even (an expression for the kernel's constexpr sizes and the host's alike)."""
    return f"({extent} + {extent} % 2 * ({extent} >= {PAD_ROWS_FROM}))"


def _times(index: str, factor: int) -> str:
    return index if factor == 1 else f"{index} * {factor}"


def phases(conv: Conv) -> int:
    """Output phases of a transposed convolution (1 if unstrided or not transposed)."""
    return math.prod(conv.stride) if conv.transposed else 1


def _conv(plan: Plan) -> Conv:
    assert plan.conv is not None
    return plan.conv


class ConvWriter(KernelWriter):
    def __init__(
        self,
        plan: Plan,
        kernel_name: str,
        mode: str,
        fp32_dot: str,
        interpreter: bool = False,
        form: ConvForm = DEFAULT_FORM,
    ) -> None:
        blocks = DIRECT_BLOCKS if mode == "direct" else GEMM_BLOCKS
        super().__init__(plan, kernel_name, blocks, interpreter)
        self.mode = mode
        self.fp32_dot = "ieee" if interpreter else fp32_dot
        self.conv = _conv(plan)
        self.spatial = plan.rank - 2
        # a strided transposed convolution's taps kernel takes one output phase (o mod
        # stride per dim) a program, so it loops over the taps that land there only
        self.phases = phases(self.conv) if mode == "taps" else 1
        self.form = form

    # ---- sizes -----------------------------------------------------------------------
    def _extent_params(self) -> list[tuple[str, str]]:
        c = self.conv
        if c.transposed:  # weight (C_in, C_out/groups, *taps)
            cin_g, cout_g = f"{c.x}.shape[1] // {c.groups}", f"{c.w}.shape[1]"
        else:  # weight (C_out, C_in/groups, *taps)
            cin_g, cout_g = f"{c.w}.shape[1]", f"{c.w}.shape[0] // {c.groups}"
        sizes = [("CIN_G", cin_g), ("COUT_G", cout_g)]
        sizes += [(f"KS{d}", f"{c.w}.shape[{2 + d}]") for d in range(self.spatial)]
        sizes += [(f"XS{d}", f"{c.x}.shape[{2 + d}]") for d in range(self.spatial)]
        return sizes

    def _constant_sizes(self) -> set[str]:
        """Sizes that indices are divided by: shifts and multiplies once compiled."""
        taps = {f"KS{d}" for d in range(self.spatial)}
        return {"CIN_G", "COUT_G", *taps, *(f"n{d}" for d in range(2, self.plan.rank))}

    # ---- the body --------------------------------------------------------------------
    def _write_body(self) -> None:
        rank = self.plan.rank
        pixels = self._pixels()
        taps = " * ".join(f"KS{d}" for d in range(self.spatial))
        self.body += self._row()
        if self.mode in ("gemm", "taps"):
            self._gemm_tile()
        else:
            self.body += [
                "pid_m = tl.program_id(axis=0)",
                "pid_n = tl.program_id(axis=1)",
                "offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)",
                "offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)",
            ]
        self.body += [f"m_mask = offs_m < {pixels}", "# output pixel -> batch, position"]
        rem = "offs_m"
        for d in reversed(range(2, rank)):
            walked = "row_len" if d == rank - 1 else self._extent(d)
            self.body.append(f"o{d} = {rem} % {walked}")
            self.body.append(f"rem_m = {rem} // {walked}")
            rem = "rem_m"
        self.body.append(f"batch = {rem}")
        self.body.append(f"m_mask = m_mask & (o{rank - 1} < {self._extent(rank - 1)})")
        if self.phases > 1:
            self._phase_positions()
        if self.mode in ("gemm", "taps"):
            self.body += [
                "n_mask = offs_n < COUT_G",
                "channel = group * COUT_G + offs_n",
                f"x_base = batch * {self.conv.x}_s0 + group * CIN_G * {self.conv.x}_s1",
            ]
            (self._gemm_loop if self.mode == "gemm" else self._taps_loop)(taps)
        else:
            self.body += [
                "n_mask = offs_n < n1",
                "channel = offs_n",
                "group = channel // COUT_G",
            ]
            self._direct_loop(taps)
        self._epilogue()

    def _pixels(self) -> str:
        """Output pixels of a program's GEMM, all or those of its phase, the last dim's rows
        padded (`row_len`)."""
        return " * ".join(
            ["n0", *(self._extent(d) for d in range(2, self.plan.rank - 1)), "row_len"]
        )

    def _row(self) -> list[str]:
        """The kernel's first lines: the positions walked along a row (PAD_ROWS_FROM)."""
        return [
            "# a row walked padded to an even length: each store's warp runs along the pixels",
            f"row_len = {padded_row(self._extent(self.plan.rank - 1))}",
        ]

    def _extent(self, d: int) -> str:
        """Output positions along dim d a program walks: n<d>, or n<d> / stride per phase."""
        s = self.conv.stride[d - 2]
        return f"((n{d} + {s - 1}) // {s})" if self.phases > 1 and s > 1 else f"n{d}"

    def _gemm_tile(self) -> None:
        """Tiles of one group's GEMM in groups of GROUP_M rows, as in the matmul kernel."""
        tile = ["pid = tl.program_id(axis=0)", "group = tl.program_id(axis=1)"]
        if self.phases > 1 and self.form.phases_interleaved:
            tile = [
                "# the phases of one tile on neighbouring programs: their stores meet in L2",
                f"pid = tl.program_id(axis=0) // {self.phases}",
                f"phase = tl.program_id(axis=0) % {self.phases}",
                "group = tl.program_id(axis=1)",
            ]
        elif self.phases > 1:
            tile = [
                "pid = tl.program_id(axis=0)",
                f"group = tl.program_id(axis=1) // {self.phases}",
                f"phase = tl.program_id(axis=1) % {self.phases}",
            ]
        self.body += [
            *tile,
            *grouped_tiles(self._pixels(), "COUT_G"),
        ]

    def _phase_positions(self) -> None:
        """This program's phase -> its offset per dim; output position = offset + stride *
        the walked position, masked past the output's end."""
        self.body.append("# output phase: o = offset + stride * j along each strided dim")
        rem = "phase"
        strided = [d for d in range(self.spatial) if self.conv.stride[d] > 1]
        for d in reversed(strided):
            s = self.conv.stride[d]
            self.body.append(f"ph{d} = {rem} % {s}" if d != strided[0] else f"ph{d} = {rem}")
            if d != strided[0]:
                self.body.append(f"rem_p = {rem} // {s}")
                rem = "rem_p"
        for d in strided:
            self.body.append(f"o{d + 2} = ph{d} + {self.conv.stride[d]} * o{d + 2}")
            self.body.append(f"m_mask = m_mask & (o{d + 2} < n{d + 2})")

    def _taps(self, k: str, indent: str, channel: bool = True) -> list[str]:
        """k -> (input channel in the group, tap per spatial dim), the weight's own order;
        without the channel, a tap number -> the tap per spatial dim."""
        lines = []
        rem = k
        for d in reversed(range(self.spatial)):
            if d == 0 and not channel:
                lines.append(f"t0 = {rem}")
                break
            lines.append(f"t{d} = {rem} % KS{d}")
            lines.append(f"rem_k = {rem} // KS{d}")
            rem = "rem_k"
        lines += [f"ci = {rem}"] if channel else []
        return [indent + line for line in lines]

    def _positions(self, out: str, tap: str) -> tuple[list[str], list[str]]:
        """Input positions p<d> read for output position `out` and tap `tap` (templates
        with {d}), and the conditions that they exist."""
        c = self.conv
        lines, valid = [], []
        for d in range(self.spatial):
            o, t = out.format(d=d + 2), tap.format(d=d)
            s, p, dil = c.stride[d], c.padding[d], c.dilation[d]
            t = _times(t, dil)
            if not c.transposed:
                lines.append(f"p{d} = {_times(o, s)}" + (f" - {p}" if p else "") + f" + {t}")
                valid += [f"(p{d} >= 0)"] if p else []  # unpadded: never below 0
                valid += [f"(p{d} < XS{d})"]
                continue
            # gather form: out = p * stride - pad + tap * dilation, solved for p
            lines.append(f"q{d} = {o}" + (f" + {p}" if p else "") + f" - {t}")
            if s == 1:
                lines.append(f"p{d} = q{d}")
                valid += [f"(p{d} >= 0)", f"(p{d} < XS{d})"]
            else:
                lines.append(f"p{d} = q{d} // {s}")
                landed = [] if self.phases > 1 else [f"(q{d} % {s} == 0)"]  # else per tap
                valid += [f"(q{d} >= 0)", *landed, f"(p{d} < XS{d})"]
        return lines, valid

    def _weight_offset(self, ci: str, t: str, channel: str, local: str) -> str:
        return f"{self._weight_input_channel(ci)} + {self._weight_tap(t, channel, local)}"

    def _weight_input_channel(self, ci: str) -> str:
        """The weight offset of input channel ci (of the group, or all for transposed)."""
        w = self.conv.w
        return f"({ci}) * {w}_s0" if self.conv.transposed else f"{ci} * {w}_s1"

    def _weight_tap(self, t: str, channel: str, local: str) -> str:
        """The weight offset of the taps t<d> and output channel (local: within its group)."""
        c, w = self.conv, self.conv.w
        taps = " + ".join(f"{t.format(d=d)} * {w}_s{2 + d}" for d in range(self.spatial))
        if c.transposed:  # weight (C_in, C_out/groups, *taps)
            return f"({local}) * {w}_s1 + {taps}"
        return f"{channel} * {w}_s0 + {taps}"

    def _gemm_loop(self, taps: str) -> None:
        c, x, i = self.conv, self.conv.x, INDENT
        positions, valid = self._positions("o{d}[None, :]", "t{d}[:, None]")
        spatial = " + ".join(f"p{d} * {x}_s{2 + d}" for d in range(self.spatial))
        w_offset = self._weight_offset(
            "group * CIN_G + ci[None, :]" if c.transposed else "ci[None, :]",
            "t{d}[None, :]",
            "channel[:, None]",
            "offs_n[:, None]",
        )
        self.body += [
            TILE_NOTE,
            "acc = tl.zeros((BLOCK_N, BLOCK_M), dtype=tl.float32)",
            f"for k0 in range(0, CIN_G * {taps}, BLOCK_K):",
            f"{i}k = k0 + tl.arange(0, BLOCK_K)",
            f"{i}k_mask = k < CIN_G * {taps}",
            *self._taps("k", i),
            *(i + line for line in positions),
            f"{i}x_mask = k_mask[:, None] & m_mask[None, :] & " + " & ".join(valid),
            f"{i}x_tile = tl.load({x}_ptr + x_base[None, :] + ci[:, None] * {x}_s1 + {spatial}, "
            "mask=x_mask, other=0.0)",
            f"{i}w_tile = tl.load({c.w}_ptr + {w_offset}, "
            "mask=n_mask[:, None] & k_mask[None, :], other=0.0)",
        ]
        self._dot(i)

    def _taps_loop(self, taps: str) -> None:
        """K = taps x the group's input channels, walked tap by tap, BLOCK_K channels a
        step: one loop (software-pipelined on the GPU), or with `taps_loop="nested"` (and a
        strided transposed convolution's phases, unless `phase_loop="single"`) a loop over
        taps around a loop over channels."""
        if self.phases > 1 and self.form.phase_loop == "single":
            self._landing_taps_loop()
            return
        if self.phases > 1 or self.form.taps_loop == "nested":
            self._nested_taps_loop(taps)
            return
        i = INDENT
        self.body += [
            TILE_NOTE,
            "acc = tl.zeros((BLOCK_N, BLOCK_M), dtype=tl.float32)",
            "# one loop over (tap, channel block): the tap's positions are one per pixel",
            "c_steps = (CIN_G + BLOCK_K - 1) // BLOCK_K",
            f"for step in range(0, {taps} * c_steps):",
            f"{i}tap = step // c_steps",
            *self._tap_geometry(i),
            f"{i}ci = (step - tap * c_steps) * BLOCK_K + tl.arange(0, BLOCK_K)",
        ]
        self._channel_tiles(i)

    def _nested_taps_loop(self, taps: str) -> None:
        """A loop over taps, the tap's positions computed once per pixel, then a K loop
        over the group's input channels."""
        c, i, ii = self.conv, INDENT, INDENT * 2
        self.body += [
            TILE_NOTE,
            "acc = tl.zeros((BLOCK_N, BLOCK_M), dtype=tl.float32)",
            f"for tap in range(0, {taps}):",
            *self._tap_geometry(i),
        ]
        if self.phases > 1:  # only the taps that land on this phase's outputs
            lands = [
                f"((ph{d} + {c.padding[d]} - {_times(f't{d}', c.dilation[d])}) % {s} == 0)"
                for d, s in enumerate(c.stride)
                if s > 1
            ]
            self.body.append(f"{i}if {' & '.join(lands)}:")
            i, ii = ii, ii + INDENT
        self.body += [
            f"{i}for c0 in range(0, CIN_G, BLOCK_K):",
            f"{ii}ci = c0 + tl.arange(0, BLOCK_K)",
        ]
        self._channel_tiles(ii)

    def _landing_taps_loop(self) -> None:
        """One loop over (tap that lands on this program's phase, channel block): along a
        strided dim d the taps t with (phase + pad - t * dilation) % stride == 0 are
        t = tf<d> + m * j, j < tn<d>, with m = stride / gcd(stride, dilation)."""
        c, i = self.conv, INDENT
        self.body += [TILE_NOTE, "acc = tl.zeros((BLOCK_N, BLOCK_M), dtype=tl.float32)"]
        self.body.append("# the taps landing on this phase, per dim: t = tf + m * j, j < tn")
        for d, s in enumerate(c.stride):
            if s == 1:
                self.body += [f"tf{d} = 0", f"tn{d} = KS{d}"]
                continue
            m, residue = (
                self._landing_step(d),
                f"ph{d}" + (f" + {c.padding[d]}" if c.padding[d] else ""),
            )
            g = s // m
            if m == 1:  # the dilation a multiple of the stride: all taps or none land
                self.body += [f"tf{d} = 0", f"tn{d} = KS{d}"]
            else:  # t * dilation = residue (mod stride): t = residue / g * inverse (mod m)
                inverse = pow(c.dilation[d] // g, -1, m)
                solved = f"({residue})" + (f" // {g}" if g > 1 else "")
                self.body += [
                    f"tf{d} = {_times(solved, inverse)} % {m}",
                    f"tn{d} = (KS{d} - tf{d} + {m - 1}) // {m}",
                ]
            if g > 1:  # no tap lands where the residue is not a multiple of the gcd
                self.body.append(f"tn{d} = tl.where(({residue}) % {g} == 0, tn{d}, 0)")
        counts = " * ".join(f"tn{d}" for d in range(self.spatial))
        self.body += [
            "c_steps = (CIN_G + BLOCK_K - 1) // BLOCK_K",
            f"for step in range(0, {counts} * c_steps):",
            f"{i}tap = step // c_steps",
            *self._tap_geometry(i, self._landing_taps(i)),
            f"{i}ci = (step - tap * c_steps) * BLOCK_K + tl.arange(0, BLOCK_K)",
        ]
        self._channel_tiles(i)

    def _landing_taps(self, indent: str) -> list[str]:
        """The landing tap number `tap` -> its tap per dim (the last dim fastest)."""
        lines, rem = [], "tap"
        for d in reversed(range(1, self.spatial)):
            lines.append(f"t{d} = tf{d} + {_times(f'({rem} % tn{d})', self._landing_step(d))}")
            lines.append(f"rem_t = {rem} // tn{d}")
            rem = "rem_t"
        lines.append(f"t0 = tf0 + {_times(rem, self._landing_step(0))}")
        return [indent + line for line in lines]

    def _landing_step(self, d: int) -> int:
        """m: the landing taps along dim d are m apart (1 unstrided)."""
        return self.conv.stride[d] // math.gcd(self.conv.stride[d], self.conv.dilation[d])

    def _tap_geometry(self, i: str, taps: list[str] | None = None) -> list[str]:
        """Tap number `tap` -> its taps per dim (`taps`: lines that compute them, else the
        weight's order), each pixel's input position for it and whether that exists
        (x_mask), the input offset a_base and the weight offset w_base."""
        x = self.conv.x
        positions, valid = self._positions("o{d}", "t{d}")
        spatial = " + ".join(f"p{d} * {x}_s{2 + d}" for d in range(self.spatial))
        return [
            *(taps if taps is not None else self._taps("tap", i, channel=False)),
            *(i + line for line in positions),
            f"{i}x_mask = " + " & ".join(["m_mask", *valid]),
            f"{i}a_base = x_base + {spatial}",
            f"{i}w_base = {self._weight_tap('t{d}', 'channel', 'offs_n')}",
        ]

    def _channel_tiles(self, i: str) -> None:
        """Input channels ci of the tap: the input and weight tiles, then the dot."""
        c, x = self.conv, self.conv.x
        w_channel = self._weight_input_channel(
            "group * CIN_G + ci[None, :]" if c.transposed else "ci[None, :]"
        )
        self.body += [
            f"{i}k_mask = ci < CIN_G",
            f"{i}x_tile = tl.load({x}_ptr + a_base[None, :] + ci[:, None] * {x}_s1, "
            "mask=k_mask[:, None] & x_mask[None, :], other=0.0)",
            f"{i}w_tile = tl.load({c.w}_ptr + w_base[:, None] + {w_channel}, "
            "mask=n_mask[:, None] & k_mask[None, :], other=0.0)",
        ]
        self._dot(i)

    def _dot(self, i: str) -> None:
        """acc += w_tile @ x_tile: fp32 at the configured precision, bf16 widened in the
        interpreter."""
        dtype = next(s.dtype for s in self.plan.sources if s.name == self.conv.x)
        precision = ""
        if dtype == torch.float32:
            self.body.append(f"{i}# fp32 operands: input_precision={self.fp32_dot!r}")
            precision = f", input_precision={self.fp32_dot!r}"
        if self.interpreter and dtype == torch.bfloat16:
            self.body.append(f"{i}# the Triton interpreter has no bf16 tl.dot: widen first")
            self.body += [
                f"{i}x_tile = x_tile.to(tl.float32)",
                f"{i}w_tile = w_tile.to(tl.float32)",
            ]
        self.body.append(f"{i}acc = tl.dot(w_tile, x_tile, acc{precision})")

    def _direct_loop(self, taps: str) -> None:
        c, x, i = self.conv, self.conv.x, INDENT
        positions, valid = self._positions("o{d}", "t{d}")
        spatial = " + ".join(f"p{d} * {x}_s{2 + d}" for d in range(self.spatial))
        w_offset = self._weight_offset(
            "group * CIN_G + ci" if c.transposed else "ci", "t{d}", "channel", "offs_n % COUT_G"
        )
        self.body += [
            TILE_NOTE,
            f"x_base = batch[None, :] * {x}_s0 + (group * CIN_G)[:, None] * {x}_s1",
            "acc = tl.zeros((BLOCK_N, BLOCK_M), dtype=tl.float32)",
            "# one multiply-add per (input channel of the group, tap)",
            f"for k in range(0, CIN_G * {taps}):",
            *self._taps("k", i),
            *(i + line for line in positions),
            f"{i}x_mask = m_mask & " + " & ".join(valid),
            f"{i}x_tile = tl.load({x}_ptr + x_base + ci * {x}_s1 + ({spatial})[None, :], "
            "mask=n_mask[:, None] & x_mask[None, :], other=0.0)",
            f"{i}w_col = tl.load({c.w}_ptr + {w_offset}, mask=n_mask, other=0.0)",
            f"{i}acc += x_tile.to(tl.float32) * w_col.to(tl.float32)[:, None]",
        ]

    def _epilogue(self) -> None:
        """The plan's pointwise work on the fp32 accumulator, then the stores."""
        self.body += [
            "# epilogue on the fp32 accumulator",
            "i0 = batch[None, :]",
            "i1 = channel[:, None]",
            *(f"i{d} = o{d}[None, :]" for d in range(2, self.plan.rank)),
            "mask = n_mask[:, None] & m_mask[None, :]",
        ]
        self._store_outputs("mask")


def conv_writers(
    plan: Plan, name: str, config: dict[str, Any], interpreter: bool
) -> list[KernelWriter]:
    """The implicit GEMM (K flattened, or a K loop per tap) and the direct kernel; the host
    picks one per launch."""
    fp32_dot = str(config.get("fp32_dot", "tf32x3"))
    stem = name.removesuffix("_kernel")  # `square_kernel_kernel` keeps its own `_kernel`
    taps, direct = (f"{stem}_{mode}_kernel" for mode in ("taps", "direct"))
    form = conv_form(config)
    writers: list[KernelWriter] = [
        ConvWriter(plan, name, "gemm", fp32_dot, interpreter),
        ConvWriter(plan, taps, "taps", fp32_dot, interpreter, form),
        ConvWriter(plan, direct, "direct", fp32_dot, interpreter),
    ]
    if form.direct_rows is not None and rows_serve(_conv(plan), plan.rank - 2):
        writers.append(DepthwiseRowsWriter(plan, f"{stem}_direct_rows_kernel", interpreter))
    return writers


def _launch(writer: KernelWriter, blocks: dict[str, str], options: dict[str, str]) -> str:
    args = [host for _, host in writer.params()]
    args += [f"{k}={v}" for k, v in {**blocks, **options}.items()]
    return f"{writer.name}[grid]({', '.join(args)})"


TILES = "triton.cdiv({}, BLOCK_M) * triton.cdiv(cout_g, block_n)"


def _taps_grid(plan: Plan, form: ConvForm) -> str:
    """The taps kernel's grid: tiles x groups, and a strided transposed convolution's
    output phases on axis 1 with the group, or on axis 0 next to each other (interleaved)."""
    conv = _conv(plan)
    if phases(conv) == 1:
        return f"({TILES.format('pixels')}, {conv.groups})"
    strides = zip(plan.f_sizes[2:], conv.stride, strict=True)
    walked = [f"triton.cdiv({n}, {s})" for n, s in strides]
    walked[-1] = padded_row(f"triton.cdiv(out_row, {conv.stride[-1]})")
    per_phase = " * ".join([f"({plan.f_sizes[0]})", *walked])
    if form.phases_interleaved:
        return f"({TILES.format(per_phase)} * {phases(conv)}, {conv.groups})"
    return f"({TILES.format(per_phase)}, {conv.groups * phases(conv)})"


def _phase_axis(conv: Conv, form: ConvForm) -> str:
    if phases(conv) == 1:
        return ""
    return (
        " (output phases: axis 0, next to each other)"
        if form.phases_interleaved
        else (" and the output phase")
    )


def _channel_steps(conv: Conv, form: ConvForm) -> tuple[list[str], list[str]]:
    """Host lines for block_n and block_c (the taps kernel's output channels a tile and
    input channels a step), and those that copy its operands channels-last."""
    if form.taps_loop != "single":
        return ["block_n, block_c = BLOCK_N, BLOCK_K"], []
    steps = [
        "# tiles of no more output channels than a group has (down to 16, tl.dot's least)",
        "block_n = min(BLOCK_N, max(16, triton.next_power_of_2(cout_g)))",
    ]
    if phases(conv) > 1 and not form.phase_channels_last:
        return [*steps, "block_c = BLOCK_K"], []
    steps += [
        "# a tap's channels BLOCK_K a step, fewer (down to 16) if fewer",
        "block_c = min(BLOCK_K, max(16, triton.next_power_of_2(cin_g)))",
    ]
    if form.channel_step_fit:
        steps += [
            "# channels that pad BLOCK_K steps by more than 1/4 (48 of 64): 16 a step",
            "if triton.cdiv(cin_g, block_c) * block_c * 4 > cin_g * 5:",
            f"{INDENT}block_c = 16",
        ]
    return steps, _channels_contiguous(conv, form.x_channels_last or phases(conv) > 1)


def _small_groups_rule(conv: Conv, form: ConvForm) -> tuple[list[str], str]:
    """With phase_small_groups, a host flag `taps_win`: the phased taps kernel's padded
    tiles (block_n x block_c products per cout_g x cin_g useful) waste no more than the
    direct and flattened kernels' taps that do not land (all but 1 / phases); and the
    condition that keeps the other kernels where it holds."""
    if phases(conv) == 1 or not form.phase_small_groups:
        return [], ""
    padded = "triton.cdiv(cout_g, block_n) * block_n * triton.cdiv(cin_g, block_c) * block_c"
    return [
        "# few channels per group: the phased taps kernel where its padding wastes no more",
        "# products than the taps that do not land on a phase (the other kernels walk them)",
        f"taps_win = {padded} <= {phases(conv)} * cout_g * cin_g",
    ], "not taps_win and "


def conv_launch_lines(plan: Plan, config: dict[str, Any], writers: list[KernelWriter]) -> list[str]:
    """Few channels per group or a short K: the direct kernel; channels that fill BLOCK_K
    steps: the K loop per tap; else the flattened implicit GEMM."""
    gemm, taps_first, direct, *rows = writers
    sizes = dict(gemm.params())
    taps = " * ".join(sizes[f"KS{d}"] for d in range(plan.rank - 2))
    conv, form = _conv(plan), conv_form(config)
    batch, spatial = f"({plan.f_sizes[0]})", plan.f_sizes[2:]
    pixels = " * ".join([batch, *(f"({size})" for size in spatial[:-1]), padded_row("out_row")])
    options = {k: str(config[k]) for k in ("num_warps", "num_stages") if k in config}
    gemm_blocks = {**{k: k for k in GEMM_BLOCKS}, "BLOCK_N": "block_n"}
    direct_blocks = {"BLOCK_M": "DIRECT_BLOCK_M", "BLOCK_N": "DIRECT_BLOCK_N"}
    direct_options = {"num_warps": "DIRECT_WARPS"}
    steps, channel_views = _channel_steps(conv, form)
    rule, unless = _small_groups_rule(conv, form)
    fills = "triton.cdiv(cin_g, block_c) * block_c * 4 <= cin_g * 5"
    few = f"cout_g < {DIRECT_BELOW} or cin_g * {taps} < {DIRECT_BELOW}"
    few = f"({few})" if unless else few
    rows_branch = []
    if rows:  # depthwise_writer.py
        condition, rows_grid, rows_blocks, rows_options = rows_launch(plan, form)
        rows_branch = [
            f"if {condition} and ({few}):",
            f"{INDENT}# one input channel a group: the row-tiled kernel, a program a plane",
            f"{INDENT}{rows_grid}",
            INDENT + _launch(rows[0], rows_blocks, rows_options),
        ]
    return [
        f"cin_g, cout_g = {sizes['CIN_G']}, {sizes['COUT_G']}",
        f"out_row = {spatial[-1]}",
        "# output rows walked padded to an even length (conv_writer.PAD_ROWS_FROM)",
        f"pixels = {pixels}",
        *steps,
        *rule,
        *rows_branch,
        f"{'el' if rows_branch else ''}if {unless}{few}:",
        f"{INDENT}# few channels per group (depthwise) or a short K: a multiply-add per tap",
        f"{INDENT}grid = (triton.cdiv(pixels, DIRECT_BLOCK_M), "
        f"triton.cdiv({plan.f_sizes[1]}, DIRECT_BLOCK_N))",
        INDENT + _launch(direct, direct_blocks, direct_options),
        f"elif {'taps_win or ' if rule else ''}{fills}:",
        f"{INDENT}# the input channels fill the steps: K walked tap by tap; grid axis 1: the",
        f"{INDENT}# group" + _phase_axis(conv, form),
        f"{INDENT}grid = {_taps_grid(plan, form)}",
        *(INDENT + line for line in channel_views),
        INDENT + _launch(taps_first, {**gemm_blocks, "BLOCK_K": "block_c"}, options),
        "else:",
        f"{INDENT}# K = input channels x taps flattened; grid axis 1: the group",
        f"{INDENT}grid = ({TILES.format('pixels')}, {conv.groups})",
        INDENT + _launch(gemm, gemm_blocks, options),
    ]


def _channels_contiguous(conv: Conv, x_too: bool) -> list[str]:
    """Host lines that make the weight's input channels contiguous (a small copy), so that a
    weight tile, BLOCK_K channels of one tap, loads in 16-byte vectors; with x_too the
    input's channels as well (channels-last, a copy of the whole input), for its tiles."""
    ci_dim = 0 if conv.transposed else 1
    lines = [
        "# input channels made contiguous: a tile's BLOCK_K channels load in 16-byte vectors",
        f"{conv.w} = {conv.w}.movedim({ci_dim}, -1).contiguous().movedim(-1, {ci_dim})",
    ]
    if x_too:
        lines.append(f"{conv.x} = {conv.x}.movedim(1, -1).contiguous().movedim(-1, 1)")
    return lines


def conv_design(plan: Plan, sizes: str) -> str:
    c = _conv(plan)
    kind = "Transposed convolution (gather form)" if c.transposed else "Convolution"
    return (
        f"{kind} over the output ({sizes}), stride {list(c.stride)}, padding "
        f"{list(c.padding)}, dilation {list(c.dilation)}, groups {c.groups}, as an implicit "
        "GEMM per group: (output pixels) x (C_in/groups * taps) by (C_in/groups * taps) x "
        "(C_out/groups), A gathered from the input by index arithmetic (no im2col buffer), "
        "tl.dot into an fp32 accumulator; with fewer than "
        f"{DIRECT_BELOW} output channels per group or a K that short (depthwise), a direct "
        "kernel with a multiply-add per tap. The bias and any pointwise epilogue run on the "
        "accumulator before the only store."
    )
