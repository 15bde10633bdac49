"""The forms a convolution configuration picks for the taps kernel (conv_configs.py's keys
other than tile sizes), read and checked once for the writer and the host's launch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# the taps kernel's K walk: one loop over (tap, channel block), or the channel loop nested
# in a loop over taps (the form measured first)
TAPS_LOOPS = {"single", "nested"}
# a strided transposed convolution's K walk per output phase: a loop over all taps with a
# channel loop under a branch for those that land ("nested"), or one loop over (landing
# tap, channel block) ("single")
PHASE_LOOPS = {"nested", "single"}


@dataclass(frozen=True)
class ConvForm:
    """taps_loop, x_channels_last: the unphased taps kernel (see conv_configs.py). The rest
    apply only to strided transposed convolutions (output phases): phase_loop, their K walk;
    phase_channels_last, the input copied channels-last and the weight's input channels made
    contiguous per call, with channel steps narrowed to the group's channels as unphased;
    phases_interleaved, the phases of one tile on neighbouring programs (grid axis 0), so
    that the stores of interleaved outputs meet in L2; phase_small_groups, the phased taps
    kernel also for few channels per group where its padded tiles waste no more products
    than the other kernels' taps that do not land. channel_step_fit: the single loop's
    channel step 16 where BLOCK_K's would pad a group's channels by more than 1/4 (48
    channels: 3 steps of 16 instead of 2 of 32, so the taps kernel instead of the flattened
    one). direct_rows: (ROWS, BLOCK_W, warps) of the row-tiled depthwise kernel
    (depthwise_writer.py), which then takes the depthwise convolutions it serves from the
    direct kernel; None: the direct kernel for all."""

    taps_loop: str = "single"
    x_channels_last: bool = False
    phase_loop: str = "nested"
    phase_channels_last: bool = False
    phases_interleaved: bool = False
    phase_small_groups: bool = False
    channel_step_fit: bool = False
    direct_rows: tuple[int, int, int] | None = None


def conv_form(config: dict[str, Any]) -> ConvForm:
    """The configuration's form, or a ValueError naming a key with a value not known."""
    form = ConvForm(
        taps_loop=str(config.get("taps_loop", "single")),
        x_channels_last=bool(config.get("x_channels_last", False)),
        phase_loop=str(config.get("phase_loop", "nested")),
        phase_channels_last=bool(config.get("phase_channels_last", False)),
        phases_interleaved=bool(config.get("phases_interleaved", False)),
        phase_small_groups=bool(config.get("phase_small_groups", False)),
        channel_step_fit=bool(config.get("channel_step_fit", False)),
        direct_rows=_direct_rows(config.get("direct_rows")),
    )
    for key, known in (("taps_loop", TAPS_LOOPS), ("phase_loop", PHASE_LOOPS)):
        value = getattr(form, key)
        if value not in known:
            raise ValueError(f"conv config {key}={value!r}: use one of {sorted(known)}")
    return form


def _direct_rows(value: Any) -> tuple[int, int, int] | None:
    """[ROWS, BLOCK_W, warps], powers of two (or "ROWS,BLOCK_W,warps", as `--set` gives it),
    or a ValueError that says so."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [int(n) if n.strip().isdigit() else n for n in value.split(",")]
    sizes = tuple(value) if isinstance(value, (list, tuple)) else ()
    if len(sizes) != 3 or not all(type(n) is int and n > 0 and n & (n - 1) == 0 for n in sizes):
        raise ValueError(
            f"conv config direct_rows={value!r}: use [ROWS, BLOCK_W, warps] (or "
            '"ROWS,BLOCK_W,warps"), three powers of two'
        )
    rows, block_w, warps = sizes
    return rows, block_w, warps
