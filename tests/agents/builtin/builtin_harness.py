"""Generate a candidate with the builtin agent and check it against its reference."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.builtin import BuiltinProvider
from agents.builtin.lowering import lower
from agents.builtin.reference import trace_reference
from agents.builtin.render import render_module
from agents.types import AgentRequest, Attempt, Candidate, Target
from verifier.static_check import check_source

DEVICE = os.environ.get("AIKG_BUILTIN_DEVICE", "cpu")
TOLERANCES = {
    torch.float32: {"atol": 1e-4, "rtol": 1e-4},
    torch.float16: {"atol": 1e-2, "rtol": 1e-2},
    torch.bfloat16: {"atol": 4e-2, "rtol": 4e-2},
}
_counter = itertools.count()


TASK_TEMPLATE = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self{init}):
        super().__init__()
        {body}

    def forward(self, {args}):
        return {expr}


def get_inputs():
    return [{inputs}]


def get_init_inputs():
    return [{init_values}]
"""


def task(
    expr: str,
    inputs: str = "torch.randn(4, 33)",
    args: str = "x",
    init: str = "",
    body: str = "pass",
    init_values: str = "",
) -> str:
    """A KernelBench-style task file whose forward returns expr."""
    return TASK_TEMPLATE.format(
        expr=expr,
        inputs=inputs,
        args=args,
        init=f", {init}" if init else "",
        body=body,
        init_values=init_values,
    )


def request(
    source: str,
    op_name: str = "op",
    task_type: str = "precision_only",
    step: int = 1,
    history: tuple[Attempt, ...] = (),
    framework: str = "torch",
) -> AgentRequest:
    return AgentRequest(
        op_name=op_name,
        reference_source=source,
        framework=framework,
        target=Target(backend=DEVICE.split(":")[0], arch="cpu" if DEVICE == "cpu" else "h100"),
        task_type=task_type,
        step=step,
        history=history,
    )


def generate(source: str, op_name: str = "op", **kwargs: Any) -> Candidate:
    return asyncio.run(BuiltinProvider().code(request(source, op_name, **kwargs)))


def load(source: str, folder: Path, stem: str) -> types.ModuleType:
    """Import source from a real file: @triton.jit reads its kernels' source text."""
    name = f"{stem}_{next(_counter)}"
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _outputs(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _as_torch(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    return value.to(DEVICE) if isinstance(value, torch.Tensor) else value


def render_with(source: str, config: dict[str, Any], framework: str = "torch") -> str:
    """A candidate rendered with a chosen launch configuration."""
    traced = trace_reference(source, framework)
    return render_module("op", traced, lower(traced), config, interpreter=DEVICE == "cpu")


# reductions through the looped kernel with several blocks per row
LOOPED = {
    "BLOCK_R": 16,
    "num_warps": 4,
    "PERSISTENT_R": 0,
    "PACK_BLOCK": 16,
    "persistent_warps": 4,
    "SPLIT_PROGRAMS": 0,
    "TILE_K": 4,
    "TILE_R": 8,
}
# single-pass reductions (statistics fused) cut into chunks of R, then merged
SPLIT = {**LOOPED, "SPLIT_PROGRAMS": 1_000_000}


def check(
    source: str, folder: Path, op_name: str = "op", seeds: int = 2, framework: str = "torch"
) -> str:
    """Generate, build both models under one seed, compare on fresh inputs; returns the code.

    NumPy references get arrays; the candidate gets the same values as torch tensors.
    """
    code = generate(source, op_name, framework=framework).code
    check_code(source, code, folder, seeds, framework)
    return code


def check_code(
    source: str, code: str, folder: Path, seeds: int = 2, framework: str = "torch"
) -> None:
    """Check a candidate's source against its reference on fresh inputs."""
    assert check_source(code) == []
    ref = load(source, folder, "reference")
    new = load(code, folder, "candidate")
    # as the verifier does: small init inputs go with small inputs, models in eval mode
    init = getattr(ref, "get_small_init_inputs", ref.get_init_inputs)()
    torch.manual_seed(0)
    model = ref.Model(*init)
    torch.manual_seed(0)
    candidate = new.ModelNew(*init)
    if isinstance(model, torch.nn.Module):
        model.to(DEVICE).eval()
        candidate.load_state_dict(model.state_dict(), strict=False)
        candidate.to(DEVICE).eval()
    make_inputs = getattr(ref, "get_small_inputs", ref.get_inputs)
    for seed in range(seeds):
        torch.manual_seed(100 + seed)
        np.random.seed(100 + seed)
        inputs = make_inputs()
        reference_inputs = inputs if framework == "numpy" else [_as_torch(v) for v in inputs]
        expected = [_as_torch(e) for e in _outputs(model.forward(*reference_inputs))]
        got = _outputs(candidate(*[_as_torch(v) for v in inputs]))
        assert len(got) == len(expected)
        for e, g in zip(expected, got, strict=True):
            e_t, g_t = torch.as_tensor(e), torch.as_tensor(g)
            assert g_t.dtype == e_t.dtype, (g_t.dtype, e_t.dtype)
            tol = TOLERANCES.get(e_t.dtype, {"atol": 0, "rtol": 0})
            torch.testing.assert_close(g_t, e_t, **tol, equal_nan=True)


def aikg_verify(source: str, code: str, folder: Path) -> dict[str, Any]:
    """The real `aikg verify` in a subprocess (two trials of fresh inputs on DEVICE) of the
    candidate `code` against the reference `source`, both written to `folder`; its JSON
    result, once it has exited 0."""
    (folder / "reference.py").write_text(source)
    (folder / "candidate.py").write_text(code)
    verify = [sys.executable, "-m", "aikg", "verify", "reference.py", "candidate.py"]
    done = subprocess.run(
        [*verify, "--device", DEVICE, "--trials", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


class _RecordedKernel:
    """Stands in for a generated kernel: `kernel[grid](...)` records the launch."""

    def __init__(self, name: str, launches: list[tuple[str, tuple[int, ...], dict[str, Any]]]):
        self.name = name
        self.launches = launches

    def __getitem__(self, grid: tuple[int, ...]) -> Any:
        def launch(*args: Any, **options: Any) -> None:
            self.launches.append((self.name, tuple(grid), options))

        return launch


def full_size_launches(
    source: str, folder: Path, code: str | None = None
) -> list[tuple[str, tuple[int, ...], dict[str, Any]]]:
    """(kernel, grid, launch keywords) of each launch the candidate (the default one unless
    `code` is given) makes for the task's full-size inputs; the inputs live on the meta
    device and no kernel runs."""
    code = code if code is not None else generate(source).code
    module = load(code, folder, "candidate")
    launches: list[tuple[str, tuple[int, ...], dict[str, Any]]] = []
    for name in dir(module):
        if name.endswith("_kernel"):
            setattr(module, name, _RecordedKernel(name, launches))
    reference = load(source, folder, "reference")
    model = module.ModelNew(*reference.get_init_inputs())
    with torch.device("meta"):
        inputs = reference.get_inputs()
    model(*inputs)
    return launches


def first_launch_arguments(
    code: str, source: str, folder: Path, kernel: str = "op_kernel", run: bool = True
) -> dict[str, Any]:
    """The arguments by parameter name (launch keywords included) of the candidate's first
    launch of `kernel` for the task's inputs: launched for real (in the interpreter), or
    with run=False on meta tensors at full size, where no kernel runs."""
    module = load(code, folder, "candidate")
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name, self.jitted = name, getattr(module, name)

        def __getitem__(self, grid: Any) -> Any:
            def launch(*args: Any, **options: Any) -> None:
                if self.name == kernel and not seen:
                    seen.update(zip(self.jitted.arg_names, args, strict=False), **options)
                if run:
                    self.jitted[grid](*args, **options)

            return launch

    for name in [n for n in dir(module) if n.endswith("_kernel")]:
        setattr(module, name, Recorder(name))
    reference = load(source, folder, "reference")
    torch.manual_seed(0)
    model = module.ModelNew(*reference.get_init_inputs())
    if run:
        model(*reference.get_inputs())
    else:
        with torch.device("meta"):
            inputs = reference.get_inputs()
        model(*inputs)
    return seen
