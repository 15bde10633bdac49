"""Copy the reference's `Model.__init__` body into `ModelNew`.

With the same body, ModelNew makes the same parameters in the same order, with shapes
that follow whatever constructor arguments it gets (the verifier may pass small ones),
and it draws the same random numbers under the same seed. The copy is used only when the
body needs nothing from the task file but its arguments, builtins, torch, nn, F and math.
"""

from __future__ import annotations

import ast
import builtins
import math
import textwrap
import types

import torch
import torch.nn.functional as F

# names the candidate module imports, and what they must be in the task file
IMPORTABLE = {
    "torch": (torch, "import torch"),
    "nn": (torch.nn, "import torch.nn as nn"),
    "F": (F, "import torch.nn.functional as F"),
    "math": (math, "import math"),
}


def _init_node(tree: ast.Module) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Model":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    return item
    return None


def _is_super_of_model(node: ast.AST) -> bool:
    """`super(Model, self)`: the explicit form of super() inside Model."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "super"
        and len(node.args) == 2
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "Model"
    )


def init_body(source: str, module: types.ModuleType) -> tuple[list[str], list[str]] | None:
    """(body lines, import lines it needs), or None when the body cannot travel alone."""
    tree = ast.parse(source)
    init = _init_node(tree)
    if init is None:
        return None
    args = {a.arg for a in init.args.args + init.args.kwonlyargs}
    stored = {
        n.id for n in ast.walk(init) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    supers = {id(n.args[0]) for n in ast.walk(init) if _is_super_of_model(n)}
    needed: list[str] = []
    for node in ast.walk(init):
        if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
            continue
        name = node.id
        if name in args or name in stored or id(node) in supers:
            continue
        if name in IMPORTABLE and module.__dict__.get(name) is IMPORTABLE[name][0]:
            if IMPORTABLE[name][1] not in needed:
                needed.append(IMPORTABLE[name][1])
            continue
        if hasattr(builtins, name) and name not in module.__dict__:
            continue
        return None
    first = init.body[0]
    start = first.lineno
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        start = init.body[1].lineno if len(init.body) > 1 else None  # drop the docstring
    if start is None:
        return ["super().__init__()"], needed
    lines = source.splitlines()[start - 1 : init.end_lineno]
    body = textwrap.dedent("\n".join(lines)).replace("super(Model, self)", "super()")
    return body.splitlines(), needed
