"""Writing a parsed formula out as a KernelBench-format reference task file.

Inputs get `shapes`/`dtypes` when given; otherwise every input is DEFAULT_SHAPE in
`get_inputs()` (realistic on a GPU) and SMALL_SHAPE in `get_small_inputs()` (what the CPU
runs), float32. A shape given explicitly is used by both. Parameters are constructor
arguments: their given value, else DEFAULT_PARAMETER, stated in the file's header.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from machine.formula import DEFAULT_PARAMETER, Formula, ProseError

DEFAULT_SHAPE = (4096, 4096)
SMALL_SHAPE = (8, 64)
DTYPES = ("float32", "float16", "bfloat16", "float64")


@dataclass(frozen=True)
class PlainReference:
    """The written file and what was assumed in it."""

    source: str
    parameters: dict[str, float]  # every parameter's value, in constructor order
    defaulted: tuple[str, ...]  # parameters no one gave a value: DEFAULT_PARAMETER, stated
    inputs: dict[str, str]  # input -> "4096x4096 float32 (small 8x64)"


def check_names(
    formula: Formula,
    params: Mapping[str, float],
    shapes: Mapping[str, Sequence[int]],
    dtypes: Mapping[str, str],
) -> None:
    """Every name the user set is one the formula uses, in the role they gave it."""
    for flag, names, known in (
        ("--param", params, formula.parameters),
        ("--shape", shapes, formula.inputs),
        ("--dtype", dtypes, formula.inputs),
    ):
        for name in names:
            if name not in known:
                uses = ", ".join((*formula.inputs, *formula.parameters))
                raise ProseError(
                    f"{flag} {name}: the formula {formula.expression!r} has no "
                    f"{'parameter' if flag == '--param' else 'input'} {name} (it uses {uses})"
                )
    for name, dtype in dtypes.items():
        if dtype not in DTYPES:
            raise ProseError(f"--dtype {name}={dtype}: use one of {', '.join(DTYPES)}")


def write_reference(
    formula: Formula,
    prose: str,
    params: Mapping[str, float],
    shapes: Mapping[str, Sequence[int]],
    dtypes: Mapping[str, str],
) -> PlainReference:
    check_names(formula, params, shapes, dtypes)
    _check_parameter_names(formula.parameters)
    values = {name: float(params.get(name, DEFAULT_PARAMETER)) for name in formula.parameters}
    defaulted = tuple(name for name in formula.parameters if name not in params)
    described = {
        name: _describe(shapes.get(name), dtypes.get(name, "float32")) for name in formula.inputs
    }
    header = [f"# {line}".rstrip() for line in prose.strip().splitlines()]
    header += ["#", "# Written by aikg from the formula form (docs/prose-tasks.md):"]
    header += [f"#   {formula.title or 'forward'}: {formula.expression}"]
    header += [f"#   input {name}: {text}" for name, text in described.items()]
    header += [
        f"#   parameter {name} = {value!r}" + (" (default, stated)" if name in defaulted else "")
        for name, value in values.items()
    ]
    source = "\n".join(
        [
            *header,
            "",
            "import torch",
            "from torch import nn",
            "",
            "",
            "class Model(nn.Module):",
            *_constructor(values),
            "",
            f"    def forward(self, {_arguments(formula.inputs)}) -> torch.Tensor:",
            f"        return {ast.unparse(ast.parse(formula.torch_expression, mode='eval'))}",
            "",
            "",
            "def get_inputs() -> list[torch.Tensor]:",
            f"    return [{_tensors(formula.inputs, shapes, dtypes, DEFAULT_SHAPE)}]",
            "",
            "",
            "def get_small_inputs() -> list[torch.Tensor]:",
            f"    return [{_tensors(formula.inputs, shapes, dtypes, SMALL_SHAPE)}]",
            "",
            "",
            "def get_init_inputs() -> list[float]:",
            f"    return [{', '.join(repr(v) for v in values.values())}]",
            "",
        ]
    )
    return PlainReference(source, values, defaulted, described)


def _check_parameter_names(names: Sequence[str]) -> None:
    """A parameter becomes `self.<name>`: it may not hide what every nn.Module has."""
    from torch import nn

    for name in names:
        if hasattr(nn.Module, name):
            raise ProseError(
                f"parameter name {name!r} is taken by torch's nn.Module: rename it in the formula"
            )


def _describe(shape: Sequence[int] | None, dtype: str) -> str:
    if shape is not None:
        return f"{_times(shape)} {dtype}"
    return f"{_times(DEFAULT_SHAPE)} {dtype} (small {_times(SMALL_SHAPE)})"


def _times(shape: Sequence[int]) -> str:
    return "x".join(str(n) for n in shape) or "scalar"


def _constructor(values: Mapping[str, float]) -> list[str]:
    arguments = "".join(f", {name}: float = {value!r}" for name, value in values.items())
    lines = [f"    def __init__(self{arguments}) -> None:", "        super().__init__()"]
    return lines + [f"        self.{name} = {name}" for name in values]


def _arguments(inputs: Sequence[str]) -> str:
    return ", ".join(f"{name}: torch.Tensor" for name in inputs)


def _tensors(
    inputs: Sequence[str],
    shapes: Mapping[str, Sequence[int]],
    dtypes: Mapping[str, str],
    default: Sequence[int],
) -> str:
    return ", ".join(
        f"torch.randn({_shape_tuple(shapes.get(name, default))}, "
        f"dtype=torch.{dtypes.get(name, 'float32')})"
        for name in inputs
    )


def _shape_tuple(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
