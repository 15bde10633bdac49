"""The formula form of a prose task, `Name: expression`, read safely into a torch expression.

Python's `ast` reads the expression; only arithmetic, comparisons, numbers, names and calls
of the functions below pass, so user text is never evaluated. A free name is an input
tensor or a scalar parameter (docs/prose-tasks.md, "Inputs and parameters"):

- a name given a value (`--param NAME=V`, `params:`) is a parameter;
- a name given a shape or dtype (`--shape`, `--dtype`, `shapes:`, `dtypes:`) is an input;
- otherwise one letter, optionally followed by digits (x, y, a, b, x1), is an input and any
  longer name (beta, alpha, eps) is a parameter, whose default is 1.0 (stated).
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

from machine.spec import TaskSpecError

FORMULA_HELP = (
    'write it in the formula form "Name: expression", e.g. '
    '"Swish activation function: x * sigmoid(beta * x)", or configure an LLM designer '
    "(docs/prose-tasks.md)"
)
ONE_ARGUMENT = {
    "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh",
    "exp": "torch.exp",
    "log": "torch.log",
    "relu": "torch.relu",
    "gelu": "torch.nn.functional.gelu",
    "softplus": "torch.nn.functional.softplus",
    "erf": "torch.erf",
    "abs": "torch.abs",
    "sqrt": "torch.sqrt",
}
REDUCTIONS = {"sum": "torch.sum", "mean": "torch.mean", "max": "torch.amax", "min": "torch.amin"}
# min/max of two values: the elementwise function, and the clamp bound when one is a number
PAIRWISE = {"max": ("torch.maximum", "min"), "min": ("torch.minimum", "max")}
FUNCTIONS = (*ONE_ARGUMENT, "pow", "where", "min", "max", "sum", "mean")
BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
COMPARE = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
DEFAULT_PARAMETER = 1.0
_INPUT_NAME = re.compile(r"^[A-Za-z][0-9]*$")


class ProseError(TaskSpecError):
    """Prose that cannot be turned into a reference: says what and shows the formula form."""


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its title, expression text, and the torch expression for forward()."""

    title: str
    expression: str
    torch_expression: str  # over the input names and `self.<parameter>`
    inputs: tuple[str, ...]  # in order of first use
    parameters: tuple[str, ...]  # in order of first use


@dataclass(frozen=True)
class _Term:
    code: str
    is_tensor: bool  # depends on an input (else a Python number)


def split_formula(prose: str) -> tuple[str, str]:
    """(title, expression): the text after the first ':' of the prose, on one line."""
    text = " ".join(line.strip().lstrip("#").strip() for line in prose.strip().splitlines())
    title, colon, expression = text.partition(":")
    if not colon:
        title, expression = "", text
    return title.strip(), expression.strip().rstrip(".").strip()


def parse_formula(
    prose: str, params: frozenset[str] = frozenset(), inputs: frozenset[str] = frozenset()
) -> Formula:
    """`prose` in the formula form; `params`/`inputs`: names the user classified."""
    title, expression = split_formula(prose)
    if not expression:
        raise ProseError(f"the task description has no expression after its name: {FORMULA_HELP}")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ProseError(
            f"could not understand {_quoted(expression)} as a formula: {FORMULA_HELP}"
        ) from None
    reader = _Reader(expression, params, inputs)
    term = reader.read(tree.body)
    if not reader.inputs:
        raise ProseError(
            f"{_quoted(expression)} has no input tensor: name inputs with one letter (x, y) or "
            f"give one a shape with --shape NAME=4x64; {FORMULA_HELP}"
        )
    assert term.is_tensor
    return Formula(title, expression, term.code, tuple(reader.inputs), tuple(reader.parameters))


def _quoted(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


class _Reader:
    """Walks the whitelisted expression tree into torch code, collecting names."""

    def __init__(self, expression: str, params: frozenset[str], inputs: frozenset[str]) -> None:
        self.expression = expression
        self.given_params = params
        self.given_inputs = inputs
        self.inputs: list[str] = []
        self.parameters: list[str] = []

    def fail(self, node: ast.AST, what: str) -> ProseError:
        piece = ast.get_source_segment(self.expression, node) or ast.unparse(node)
        return ProseError(f"could not understand {_quoted(piece)}: {what}; {FORMULA_HELP}")

    def read(self, node: ast.AST) -> _Term:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            if not math.isfinite(node.value):
                raise self.fail(node, "numbers must be finite")
            return _Term(repr(node.value), False)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.read(node.operand)
            sign = "-" if isinstance(node.op, ast.USub) else "+"
            return _Term(f"{sign}({operand.code})", operand.is_tensor)
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            left, right = self.read(node.left), self.read(node.right)
            code = f"({left.code} {BINARY[type(node.op)]} {right.code})"
            return _Term(code, left.is_tensor or right.is_tensor)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
            left, right = self.read(node.left), self.read(node.comparators[0])
            code = f"({left.code} {COMPARE[type(node.ops[0])]} {right.code})"
            return _Term(code, left.is_tensor or right.is_tensor)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(node, "only numbers, names, + - * / **, comparisons and calls")

    def name(self, node: ast.Name) -> _Term:
        name = node.id
        if name in FUNCTIONS:
            raise self.fail(node, f"{name} is a function: call it, e.g. {name}(x)")
        if name.startswith("_") or name in ("self", "torch"):
            raise self.fail(node, "names may not start with '_' or be self or torch")
        is_input = name in self.given_inputs or (
            name not in self.given_params and _INPUT_NAME.match(name) is not None
        )
        if is_input:
            if name not in self.inputs:
                self.inputs.append(name)
            return _Term(name, True)
        if name not in self.parameters:
            self.parameters.append(name)
        return _Term(f"self.{name}", False)

    def call(self, node: ast.Call) -> _Term:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            callee = ast.unparse(node.func)
            raise self.fail(node, f"unknown function {callee}: use {', '.join(FUNCTIONS)}")
        name = node.func.id
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, "no *arguments")
        args = [self.read(a) for a in node.args]
        options = self.options(node)
        if name in ONE_ARGUMENT:
            self.arity(node, args, 1, options)
            return _Term(f"{ONE_ARGUMENT[name]}({args[0].code})", args[0].is_tensor)
        if name == "pow":
            self.arity(node, args, 2, options)
            return _Term(f"torch.pow({args[0].code}, {args[1].code})", True)
        if name == "where":
            self.arity(node, args, 3, options)
            if not args[0].is_tensor:
                raise self.fail(node, "where's condition must involve an input")
            return _Term(f"torch.where({', '.join(a.code for a in args)})", True)
        if name in PAIRWISE and len(args) == 2 and not options:
            return self.pairwise(node, name, args)
        return self.reduction(node, name, args, options)

    def options(self, node: ast.Call) -> dict[str, str]:
        found = {}
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "dim" and _is_int(value):
                found["dim"] = ast.unparse(value)
            elif keyword.arg == "keepdim" and isinstance(value, ast.Constant):
                if not isinstance(value.value, bool):
                    raise self.fail(keyword, "keepdim is True or False")
                found["keepdim"] = repr(value.value)
            else:
                raise self.fail(keyword, "the only options are dim=<integer> and keepdim=True")
        return found

    def arity(self, node: ast.Call, args: list[_Term], count: int, options: dict[str, str]) -> None:
        assert isinstance(node.func, ast.Name)
        if len(args) != count or options:
            raise self.fail(node, f"{node.func.id} takes {count} argument(s) and no options")
        if not any(a.is_tensor for a in args):
            raise self.fail(node, f"{node.func.id} needs an input among its arguments")

    def pairwise(self, node: ast.Call, name: str, args: list[_Term]) -> _Term:
        function, side = PAIRWISE[name]
        tensor = [a for a in args if a.is_tensor]
        if len(tensor) == 2:
            return _Term(f"{function}({args[0].code}, {args[1].code})", True)
        if not tensor:
            raise self.fail(node, f"{name} needs an input among its arguments")
        scalar = next(a for a in args if not a.is_tensor)
        return _Term(f"torch.clamp({tensor[0].code}, {side}={scalar.code})", True)

    def reduction(
        self, node: ast.Call, name: str, args: list[_Term], options: dict[str, str]
    ) -> _Term:
        if name not in REDUCTIONS or len(args) != 1 or not args[0].is_tensor:
            raise self.fail(
                node, f"{name} takes one input and dim=, e.g. {name}(x, dim=1), or two values"
            )
        if "keepdim" in options and "dim" not in options:
            raise self.fail(node, "keepdim needs dim=")
        extra = "".join(f", {key}={value}" for key, value in options.items())
        return _Term(f"{REDUCTIONS[name]}({args[0].code}{extra})", True)


def _is_int(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int
