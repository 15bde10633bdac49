"""`python -m aikg.reference_probe`: run a task file's reference once, on its own inputs.

Runs in a scrubbed subprocess (see `aikg.reference_check`), never in the `aikg` process:
the task file is user code. Reads `{"source", "framework", "small"}` as JSON on stdin and
writes `{"problem": TEXT or null}` as one JSON line on its stdout; what the task file
prints goes to stderr.

With small shapes the reference really runs (`get_small_inputs()` where defined, as the
verifier does on the CPU). At full shapes a torch reference runs on the meta device, so
nothing is allocated: shapes and code paths are checked, values are not, and an op that
has no meta implementation makes the check inconclusive rather than failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _is_tensor(value: Any) -> bool:
    import numpy as np
    import torch

    mindspore = sys.modules.get("mindspore")
    return isinstance(value, torch.Tensor | np.ndarray) or (
        mindspore is not None and isinstance(value, mindspore.Tensor)
    )


class ProbeProblem(Exception):
    """What is wrong with the reference, in one line naming the function."""


def _called(module: ModuleType, name: str) -> list[Any]:
    """`module.name()` as a list; a one-line ProbeProblem when it raises or is not a list."""
    try:
        values = getattr(module, name)()
    except Exception as exc:
        raise ProbeProblem(f"{name}() raised {_describe(exc)}") from exc
    if not isinstance(values, list | tuple):
        raise ProbeProblem(f"{name}() returned {type(values).__name__}, not a list")
    return list(values)


def _meta_limitation(exc: BaseException) -> bool:
    return isinstance(exc, NotImplementedError) or "meta" in str(exc).lower()


@contextlib.contextmanager
def _device(meta: bool) -> Iterator[None]:
    if not meta:
        yield
        return
    import torch

    with torch.device("meta"):
        yield


def _run_once(module: ModuleType, init_name: str, inputs_name: str) -> None:
    """Build the model from `init_name()` and call it on `inputs_name()`; ProbeProblem names
    the step that failed."""
    from verifier.loading import model_call

    init = _called(module, init_name)
    inputs = _called(module, inputs_name)
    if not any(_is_tensor(v) for v in inputs):
        kinds = ", ".join(type(v).__name__ for v in inputs) or "an empty list"
        raise ProbeProblem(f"{inputs_name}() returned no tensors ({kinds}), not forward's inputs")
    try:
        model = module.Model(*init)
    except Exception as exc:
        raise ProbeProblem(f"Model(*{init_name}()) raised {_describe(exc)}") from exc
    try:
        model_call(model)(*inputs)
    except Exception as exc:
        raise ProbeProblem(
            f"Model.forward raised {_describe(exc)} on {inputs_name}()'s inputs"
        ) from exc


def probe(source: str, framework: str, small: bool, directory: Path) -> str | None:
    """What stops the reference from running on its own inputs; None when nothing does."""
    import torch

    from verifier.loading import load_module

    try:
        module = load_module(source, "reference", directory)
    except Exception as exc:
        return f"the task file does not import: {_describe(exc)}"
    init_name, inputs_name = "get_init_inputs", "get_inputs"
    if small and callable(getattr(module, "get_small_inputs", None)):
        inputs_name = "get_small_inputs"
        if callable(getattr(module, "get_small_init_inputs", None)):
            init_name = "get_small_init_inputs"
    meta = framework == "torch" and not small
    try:
        with _device(meta), torch.no_grad():
            _run_once(module, init_name, inputs_name)
    except ProbeProblem as problem:
        if meta and problem.__cause__ is not None and _meta_limitation(problem.__cause__):
            return None  # an op the meta device cannot run: inconclusive
        return str(problem)
    return None


def main() -> int:
    job = json.loads(sys.stdin.read())
    from verifier.sandbox_worker import confine_worker

    confine_worker(Path.cwd())  # as the verifier's CPU worker, before torch or the task file
    result = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the task's prints go to stderr
    with tempfile.TemporaryDirectory(prefix="aikg-probe-") as directory:
        problem = probe(job["source"], job["framework"], job["small"], Path(directory))
    sys.stdout.flush()
    result.write(json.dumps({"problem": problem}) + "\n")
    result.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
