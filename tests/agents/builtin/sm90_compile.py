"""Compile a rendered candidate's kernels for sm_90 without a GPU and print, per kernel, as
JSON: the TTGIR of its first store and of that store's layout, its number of loops, and its
asynchronous (software-pipelined) copies. Run as a script with
TRITON_INTERPRET unset (the tests' process runs Triton's interpreter, whose language patches
the compiler cannot use):

    python tests/agents/builtin/sm90_compile.py CANDIDATE.py KERNEL... --sizes JSON
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource


def _signature(fn: Any, sizes: dict[str, int]) -> tuple[dict[str, str], dict[str, int]]:
    """fp32 pointers, int32 sizes and strides; compile-time sizes from `sizes` (else 3, and
    30 for the output's n<d>)."""
    types, constants = {}, {}
    for param in fn.params:
        if param.is_constexpr:
            constants[param.name] = sizes.get(param.name, 30 if param.name[0] == "n" else 3)
        else:
            types[param.name] = "*fp32" if param.name.endswith("_ptr") else "i32"
    return types, constants


def compile_ttgir(path: Path, kernel: str, sizes: dict[str, int], stages: int) -> str:
    """The kernel's TTGIR for sm_90 (4 warps, `stages` pipeline stages)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    fn = getattr(module, kernel)
    types, constants = _signature(fn, sizes)
    options = {"num_warps": 4, "num_stages": stages}
    compiled = triton.compile(
        ASTSource(fn, types, constants), target=GPUTarget("cuda", 90, 32), options=options
    )
    return compiled.asm["ttgir"]


def store_layout(ir: str) -> list[str]:
    """The first store and the definition of its layout, as TTGIR lines."""
    store = next(line for line in ir.splitlines() if "tt.store" in line)
    name = re.search(r"#(blocked\d*)>", store)
    assert name is not None, store
    layout = next(line for line in ir.splitlines() if line.startswith(f"#{name.group(1)} "))
    return [store.strip(), layout]


def compile_in_subprocess(
    candidate: Path, kernels: list[str], sizes: dict[str, Any], cache: Path
) -> list[dict[str, Any]]:
    """This script on `candidate` outside the interpreter: a record per kernel (the tests'
    process runs the interpreter; a compile error fails with its stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(cache)
    root = Path(__file__).resolve().parents[3]
    command = [sys.executable, __file__, str(candidate), *kernels, "--sizes", json.dumps(sizes)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("candidate", type=Path)
    parser.add_argument("kernels", nargs="+")
    parser.add_argument("--sizes", default="{}")
    args = parser.parse_args()
    sizes = json.loads(args.sizes)
    for kernel in args.kernels:
        stages = 1 if "direct" in kernel else 3
        ir = compile_ttgir(args.candidate, kernel, sizes, stages)
        record = {"kernel": kernel, "layout": store_layout(ir), "loops": ir.count("scf.for ")}
        # loads the software pipeliner turned into asynchronous copies to shared memory
        record["async_copies"] = ir.count("ttg.async_copy_global_to_local")
        print(json.dumps(record))


if __name__ == "__main__":
    main()
