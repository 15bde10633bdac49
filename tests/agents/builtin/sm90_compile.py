"""Compile a rendered candidate's kernels for sm_90 without a GPU and print, per kernel, as
JSON: the TTGIR of its first store and of that store's layout, its number of loops, its
asynchronous (software-pipelined) copies and their widths in the PTX, the widths of its
plain global loads, and its integer divisions and remainders; `--args` specialises the
arguments as a real launch with those values would. Run as a script with TRITON_INTERPRET
unset (the tests' process runs Triton's interpreter, whose language patches the compiler
cannot use):

    python tests/agents/builtin/sm90_compile.py CANDIDATE.py KERNEL... --sizes JSON [--args JSON]
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


def _signature(
    fn: Any, sizes: dict[str, int], launch: dict[str, int] | None
) -> tuple[dict[str, str], dict[str, int], dict[tuple[int, ...], list[list[Any]]]]:
    """fp32 pointers, int32 sizes and strides; compile-time sizes from `sizes` (else 3, and
    30 for the output's n<d>). With `launch` (a call's integer arguments by name) the
    arguments are specialised as Triton's launcher does: an integer equal to 1 becomes a
    constant, one divisible by 16 and every pointer (torch allocates 16-byte aligned) are
    marked divisible by 16."""
    types, constants, attrs = {}, {}, {}
    divisible = [["tt.divisibility", 16]]
    for index, param in enumerate(fn.params):
        if param.is_constexpr:
            constants[param.name] = sizes.get(param.name, 30 if param.name[0] == "n" else 3)
        elif param.name.endswith("_ptr"):
            types[param.name] = "*fp32"
            if launch is not None:
                attrs[(index,)] = divisible
        elif launch is not None and launch.get(param.name) == 1:
            types[param.name], constants[param.name] = "constexpr", 1
        else:
            types[param.name] = "i32"
            if launch is not None and launch.get(param.name, 1) % 16 == 0:
                attrs[(index,)] = divisible
    return types, constants, attrs


def compile_kernel(
    path: Path, kernel: str, sizes: dict[str, int], stages: int, launch: dict[str, int] | None
) -> Any:
    """The kernel compiled for sm_90 (4 warps, `stages` pipeline stages)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    fn = getattr(module, kernel)
    types, constants, attrs = _signature(fn, sizes, launch)
    options = {"num_warps": 4, "num_stages": stages}
    source = ASTSource(fn, types, constants, attrs)
    return triton.compile(source, target=GPUTarget("cuda", 90, 32), options=options)


def copy_widths(ptx: str) -> dict[str, int]:
    """How many global-to-shared asynchronous copies of each width (bytes) the PTX issues."""
    widths = re.findall(r"cp\.async\.c[ag]\.shared\.global[^;]*, (0x[0-9a-f]+)", ptx)
    return {str(int(w, 16)): widths.count(w) for w in sorted(set(widths))}


def load_widths(ptx: str) -> dict[str, int]:
    """How many global loads of each width (bytes) the PTX issues (32-bit elements)."""
    lanes = [int(v or 1) for v in re.findall(r"ld\.global[\w.:]*?(?:\.v(\d))?\.b32", ptx)]
    return {str(4 * n): lanes.count(n) for n in sorted(set(lanes))}


def store_layout(ir: str) -> list[str]:
    """The first store and the definition of its layout, as TTGIR lines."""
    store = next(line for line in ir.splitlines() if "tt.store" in line)
    name = re.search(r"#(blocked\d*)>", store)
    assert name is not None, store
    layout = next(line for line in ir.splitlines() if line.startswith(f"#{name.group(1)} "))
    return [store.strip(), layout]


def compile_in_subprocess(
    candidate: Path,
    kernels: list[str],
    sizes: dict[str, Any],
    cache: Path,
    launch: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """This script on `candidate` outside the interpreter: a record per kernel (the tests'
    process runs the interpreter; a compile error fails with its stderr); `launch`, a
    call's integer arguments, specialises them as that call would."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(cache)
    root = Path(__file__).resolve().parents[3]
    command = [sys.executable, __file__, str(candidate), *kernels, "--sizes", json.dumps(sizes)]
    command += ["--args", json.dumps(launch)] if launch is not None else []
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("candidate", type=Path)
    parser.add_argument("kernels", nargs="+")
    parser.add_argument("--sizes", default="{}")
    parser.add_argument("--args", default=None, help="a launch's integer arguments (JSON)")
    args = parser.parse_args()
    sizes = json.loads(args.sizes)
    launch = json.loads(args.args) if args.args else None
    for kernel in args.kernels:
        stages = 1 if "direct" in kernel else 3
        compiled = compile_kernel(args.candidate, kernel, sizes, stages, launch)
        ir = compiled.asm["ttgir"]
        record = {"kernel": kernel, "layout": store_layout(ir), "loops": ir.count("scf.for ")}
        # loads the software pipeliner turned into asynchronous copies to shared memory
        record["async_copies"] = ir.count("ttg.async_copy_global_to_local")
        record["copy_widths"] = copy_widths(compiled.asm["ptx"])
        record["load_widths"] = load_widths(compiled.asm["ptx"])
        # integer divisions and remainders (an index split by a runtime size)
        record["divisions"] = len(re.findall(r"\b(?:div|rem)\.[su]\d+", compiled.asm["ptx"]))
        print(json.dumps(record))


if __name__ == "__main__":
    main()
