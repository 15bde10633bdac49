"""What the GPU benchmark scripts share: importing a rendered candidate from its source
(`@triton.jit` reads a kernel's source text, so the module must be a real file), timing
with `triton.testing.do_bench`, and the report's header."""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch


def add_set_option(parser: Any) -> None:
    """`--set KEY=VALUE` (repeatable): a configuration key overridden for the run."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a configuration key (an integer value, or text)",
    )


def config_overrides(items: list[str]) -> dict[str, Any]:
    """The `--set` items as a dict; exits 2 naming the fix on one that is not KEY=VALUE."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise SystemExit(f"--set {item!r}: write KEY=VALUE, e.g. SPLIT_PROGRAMS=4096")
        overrides[key] = int(value) if value.lstrip("-").isdigit() else value
    return overrides


def import_source(code: str, folder: Path, stem: str) -> ModuleType:
    """The module of a candidate's source, written to a fresh file in folder."""
    path = folder / f"{stem}_{len(list(folder.iterdir()))}.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def bench_ms(fn: Callable[[], Any]) -> float:
    """The median time of fn in milliseconds (L2 flushed between runs)."""
    from triton.testing import do_bench

    return float(do_bench(fn, warmup=10, rep=60))


def report(records: list[dict], started: float) -> dict[str, Any]:
    """The JSON report: the device and versions, the seconds since started, the records."""
    return {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "triton": __import__("triton").__version__,
        "seconds": time.perf_counter() - started,
        "records": records,
    }
