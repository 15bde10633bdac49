"""A GPU's copy bandwidth and matmul rate, measured once (by the verifier's own
`device_caps`) and kept in the user's cache, keyed by the GPU's name and torch's version.

`$XDG_CACHE_HOME/aikg/device-rates.json` (default `~/.cache/aikg/`); delete it to measure
again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aikg" / "device-rates.json"


@dataclass(frozen=True)
class DeviceRates:
    copy_bytes_per_s: float
    matmul_bf16_flop_per_s: float
    cached: bool  # read from the cache, not measured now

    def describe(self) -> str:
        where = "cached" if self.cached else "measured now"
        return (
            f"copy {self.copy_bytes_per_s / 1e12:.2f} TB/s, "
            f"bf16 matmul {self.matmul_bf16_flop_per_s / 1e12:.0f} TFLOP/s ({where}, "
            f"{cache_file()})"
        )


def device_rates(device: str = "cuda:0") -> DeviceRates:
    import torch

    key = f"{torch.cuda.get_device_name(device)} / torch {torch.__version__}"
    path = cache_file()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    if key in known:
        rates = known[key]
        return DeviceRates(rates["copy_bytes_per_s"], rates["matmul_bf16_flop_per_s"], True)
    from verifier.timing import device_caps

    caps = device_caps(device)
    known[key] = caps
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=2))
    except OSError:
        pass  # an unwritable cache costs a measurement next time, nothing else
    return DeviceRates(caps["copy_bytes_per_s"], caps["matmul_bf16_flop_per_s"], False)
