"""Writing an op module: one self-contained file that registers a verified kernel as a
PyTorch custom op (docs/export.md shows one and says what each part does).

The file holds a provenance header, the candidate verbatim between the markers that
`aikg verify` reads (verifier/op_module.py), the reference's source and the runtime's
(`aikg/export_op/runtime.py`) as strings run in namespaces of their own, and the op's
config. It imports torch and Triton only: aikg need not be installed where it runs.
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import pprint
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from aikg.export_op.envelope import envelope_of
from aikg.export_op.facts import OpFacts
from machine.state import TaskState
from verifier.op_module import (
    CANDIDATE_BEGIN,
    CANDIDATE_END,
    FUTURE_PREFIX,
    OP_MODULE_MARK,
    REFERENCE_DIGEST,
)

RUNTIME_FILE = Path(__file__).with_name("runtime.py")  # imported only to describe envelopes
VERIFIER_SEED = 0  # the seed the verifier builds both models under (VerifyJob.seed)


@dataclass(frozen=True)
class OpNames:
    function: str  # the plain function, e.g. swish
    module_class: str  # the drop-in nn.Module, e.g. Swish
    qualname: str  # the registered op, e.g. aikg::swish


def op_names(op_name: str, namespace: str, candidate: str) -> OpNames:
    """Python and op names for `op_name` that no top-level name of the candidate shadows."""
    base = re.sub(r"\W+", "_", op_name).strip("_").lower() or "op"
    if base[0].isdigit() or keyword.iskeyword(base):
        base = f"op_{base}"
    taken = _top_level_names(candidate)
    function = base
    while function in taken:
        function += "_op"
    module_class = "".join(part.capitalize() for part in function.split("_")) or "Op"
    while module_class in taken:
        module_class += "Op"
    return OpNames(function, module_class, f"{namespace}::{function}")


def _top_level_names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.Import | ast.ImportFrom):
            for child in ast.walk(node):
                if isinstance(child, ast.Name):
                    names.add(child.id)
                elif isinstance(child, ast.alias):
                    names.add((child.asname or child.name).split(".")[0])
    return names


def op_config(facts: OpFacts, names: OpNames, *, strict: bool, device: str) -> dict[str, Any]:
    """What `runtime.build` registers: names, schema, envelope, the recorded init inputs."""
    return {
        "qualname": names.qualname,
        "name": names.function,
        "class_name": names.module_class,
        "inputs": [
            {"name": name, "kind": value["kind"]}
            for name, value in zip(facts.names, facts.shape_sets[0]["inputs"], strict=True)
        ],
        "parameters": [p["name"] for p in facts.parameters],
        "outputs": facts.outputs,
        "output_tuple": facts.output_tuple,
        "envelope": envelope_of(facts, device),
        "strict": strict,
        "seed": VERIFIER_SEED,
        "init_inputs": facts.init_inputs,
    }


def op_module_source(
    state: TaskState, facts: OpFacts, names: OpNames, *, strict: bool, device: str
) -> str:
    spec, best = state.spec, state.best
    assert spec is not None and best is not None and best.code is not None
    config = op_config(facts, names, strict=strict, device=device)
    envelope = config["envelope"]
    candidate_lines = best.code.strip("\n").splitlines()
    futures = [line for line in candidate_lines if line.startswith(FUTURE_PREFIX)]
    body = [line for line in candidate_lines if not line.startswith(FUTURE_PREFIX)]
    interpreter = (
        ["import os", "", 'os.environ.setdefault("TRITON_INTERPRET", "1")  # Triton on a CPU', ""]
        if device == "cpu"
        else []
    )
    parts = [
        *_header(state, facts, names, envelope, strict),
        f'"""{names.qualname}: the verified kernel of task {spec.task_id} (docs/export.md).',
        "",
        f"    {names.function}(...)            the reference forward's arguments",
        f"    {names.module_class}(*init_inputs)      a drop-in for the reference's Model",
        f"    torch.ops.{names.qualname.replace('::', '.')}   the custom op itself",
        '"""',
        "",
        *futures,
        *interpreter,
        CANDIDATE_BEGIN,
        *body,
        CANDIDATE_END,
        "",
        f"_AIKG_REFERENCE_SOURCE = {_literal(spec.task_desc)}",
        f"_AIKG_RUNTIME_SOURCE = {_literal(RUNTIME_FILE.read_text())}",
        f"_AIKG_CONFIG = {pprint.pformat(config, width=96, sort_dicts=False)}",
        "",
        "",
        "def _aikg_load() -> dict:",
        "    import sys",
        "    import types",
        "",
        "    spaces = {}",
        '    for part, text in (("reference", _AIKG_REFERENCE_SOURCE), '
        '("runtime", _AIKG_RUNTIME_SOURCE)):',
        '        spaces[part] = types.ModuleType(f"{__name__}._aikg_{part}")',
        "        sys.modules[spaces[part].__name__] = spaces[part]  # torch.compile imports it",
        '        code = compile(text, f"<{__name__}: aikg {part}>", "exec")',
        "        exec(code, spaces[part].__dict__)",
        '    built = spaces["runtime"].build(_AIKG_CONFIG, spaces["reference"].Model, ModelNew)',
        '    built["OutsideEnvelope"] = spaces["runtime"].OutsideEnvelope',
        "    return built",
        "",
        "",
        "_aikg_built = _aikg_load()",
        f'{names.function} = _aikg_built["function"]',
        f'{names.module_class} = _aikg_built["Module"]',
        'OutsideEnvelope = _aikg_built["OutsideEnvelope"]',
        f'__all__ = ["{names.function}", "{names.module_class}", "OutsideEnvelope"]',
        "",
    ]
    return "\n".join(parts)


def _literal(text: str) -> str:
    """`text` as a Python literal that reads as the source it is: a raw triple-quoted
    string where one can hold it exactly, else repr."""
    if "'''" in text or text.endswith(("\\", "'")) or "\r" in text:
        return repr(text)
    return f"r'''{text}'''"


def _header(
    state: TaskState,
    facts: OpFacts,
    names: OpNames,
    envelope: dict[str, Any],
    strict: bool,
) -> list[str]:
    from aikg.export_op.runtime import describe_envelope  # torch: only when writing

    spec, best = state.spec, state.best
    assert spec is not None and best is not None
    digest = hashlib.sha256(spec.task_desc.encode()).hexdigest()
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shapes = [_shape_set(facts.names, shape_set) for shape_set in facts.shape_sets]
    parameters = ", ".join(f"{p['name']} {p['dtype']} {p['shape']}" for p in facts.parameters)
    fields = [
        ("task", f"{spec.task_id} (op {spec.op_name}, step {best.step})"),
        ("op", f"{names.qualname}: {names.function}(), {names.module_class}"),
        (REFERENCE_DIGEST, digest),
        ("verified on", f"{spec.backend}/{spec.arch} ({spec.framework}, {spec.impl_type})"),
        ("speedup", _speedups(best.timings)),
        ("verified shapes", shapes[0]),
        *(("", line) for line in shapes[1:]),
        ("envelope", describe_envelope(envelope)),
        ("parameters", parameters or "none"),
        ("outside it", "raise OutsideEnvelope (--strict)" if strict else "the reference runs"),
        ("aikg", f"{_aikg_version()} wrote this on {written}; the run: {spec.aikg_version}"),
    ]
    lines = [f"{OP_MODULE_MARK}: {names.qualname}, a verified kernel as a PyTorch custom op"]
    lines += [f"# {key + ':' if key else '':18} {value}" for key, value in fields]
    return [*lines, ""]


def _shape_set(names: list[str], shape_set: dict[str, Any]) -> str:
    inputs = ", ".join(
        f"{name} {_value(value)}" for name, value in zip(names, shape_set["inputs"], strict=True)
    )
    outputs = ", ".join(_value(value) for value in shape_set["outputs"])
    return f"{shape_set['label']}: {inputs} -> {outputs}"


def _value(value: dict[str, Any]) -> str:
    if value["kind"] == "tensor":
        return f"{value['dtype']} {value['shape']}"
    return repr(value["value"])


def _speedups(timings: dict[str, Any]) -> str:
    eager, compiled = timings.get("speedup_vs_eager"), timings.get("speedup_vs_compile")
    if eager is None:
        return "not timed (the task verified precision only)"
    text = f"{eager:.2f}x vs eager"
    return text + (f", {compiled:.2f}x vs torch.compile" if compiled is not None else "")


def _aikg_version() -> str:
    try:
        return version("aikg")
    except PackageNotFoundError:
        return "0+unknown"
