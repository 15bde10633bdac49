"""`python -m aikg.export_op.probe`: what an op export needs to know of a verified task.

The task file and the candidate are user and model code, so they run here, in a scrubbed
subprocess (`aikg.export_op.facts`), never in the `aikg` process. Reads `{"reference",
"candidate", "small"}` as JSON on stdin; writes one JSON line: the forward's arguments,
the reference's parameters, and every shape set the verifier tested (the trials' inputs and
each generalization shape, verifier/shapes.py) with the reference's outputs there — or
`{"problem": TEXT}`. Inputs and outputs are made under FakeTensorMode: nothing is
allocated, so full GPU shapes cost nothing.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

KINDS = {bool: "bool", int: "int", float: "float"}


class ProbeProblem(Exception):
    """Why this task cannot become an op, in one line."""


def _argument_names(model: type, count: int) -> list[str]:
    parameters = list(inspect.signature(model.forward).parameters.values())[1:]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        raise ProbeProblem("Model.forward takes *args or **kwargs: an op needs named arguments")
    if len(parameters) != count:
        raise ProbeProblem(
            f"Model.forward takes {len(parameters)} arguments but get_inputs() gives {count}"
        )
    return [p.name for p in parameters]


def _describe(value: Any) -> dict[str, Any]:
    import torch

    if isinstance(value, torch.Tensor):
        return {
            "kind": "tensor",
            "dtype": str(value.dtype).removeprefix("torch."),
            "shape": list(value.shape),
        }
    kind = KINDS.get(type(value))
    if kind is None:
        raise ProbeProblem(
            f"an input of type {type(value).__name__}: an op takes tensors, ints, floats, bools"
        )
    return {"kind": kind, "value": value}


def _outputs(value: Any) -> tuple[bool, list[dict[str, Any]]]:
    import torch

    as_tuple = isinstance(value, tuple | list)
    outputs = list(value) if as_tuple else [value]
    if not outputs or not all(isinstance(o, torch.Tensor) for o in outputs):
        raise ProbeProblem("Model.forward returns something other than tensors")
    return as_tuple, [_describe(o) for o in outputs]


def _parameters(reference: Any, candidate: Any) -> list[dict[str, Any]]:
    import torch

    theirs = dict(candidate.state_dict()) if isinstance(candidate, torch.nn.Module) else {}
    ours = dict(reference.state_dict())
    for name, tensor in theirs.items():
        mine = ours.get(name)
        if mine is None or mine.shape != tensor.shape or mine.dtype != tensor.dtype:
            raise ProbeProblem(
                f"ModelNew holds {name!r} {list(tensor.shape)} that the reference does not: "
                "an op passes the reference's parameters to the kernel by name, so the "
                "candidate must name its parameters as the reference does"
            )
    return [{"name": name, **_describe(tensor)} for name, tensor in ours.items()]


def probe(reference_source: str, candidate_source: str, small: bool, directory: Path) -> dict:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    from verifier.loading import build_model, init_inputs, load_module
    from verifier.shapes import generalization_makers, trial_inputs_maker

    task = load_module(reference_source, "reference", directory)
    if not isinstance(getattr(task, "Model", None), type) or not issubclass(
        task.Model, torch.nn.Module
    ):
        raise ProbeProblem("the reference's Model is not a torch nn.Module")
    candidate_module = load_module(candidate_source, "candidate", directory)
    reference = build_model(task.Model, task, 0, "cpu", small)
    candidate = build_model(candidate_module.ModelNew, task, 0, "cpu", small)
    makers = [("trials", trial_inputs_maker(task, small)), *generalization_makers(task, small)]
    shape_sets = []
    output_tuple = False
    with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad():
        for label, maker in makers:
            inputs = list(maker())
            output_tuple, outputs = _outputs(reference(*inputs))
            shape_sets.append(
                {"label": label, "inputs": [_describe(v) for v in inputs], "outputs": outputs}
            )
    init = init_inputs(task, small)
    for value in init:
        if type(value) not in (*KINDS, str, type(None)):
            raise ProbeProblem(
                f"an init input of type {type(value).__name__}: an op module records "
                "get_init_inputs() as literals (numbers, bools, strings)"
            )
    return {
        "names": _argument_names(task.Model, len(shape_sets[0]["inputs"])),
        "parameters": _parameters(reference, candidate),
        "shape_sets": shape_sets,
        "output_tuple": output_tuple,
        "init_inputs": init,
    }


def main() -> int:
    job = json.loads(sys.stdin.read())
    result = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the task's prints go to stderr
    with tempfile.TemporaryDirectory(prefix="aikg-export-") as directory:
        try:
            facts = probe(job["reference"], job["candidate"], job["small"], Path(directory))
        except ProbeProblem as problem:
            facts = {"problem": str(problem)}
        except Exception as exc:
            facts = {"problem": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    sys.stdout.flush()
    result.write(json.dumps(facts) + "\n")
    result.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
