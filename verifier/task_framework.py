"""Which framework a task file is written for, read from its code without running it.

Used by `aikg run`/`batch` (through `machine/spec.py`) and by `aikg verify` when
`--framework` is not given. Plain `ast`: nothing of the task file is executed.
"""

from __future__ import annotations

import ast


def imported_roots(tree: ast.Module) -> set[str]:
    """The top-level packages a module imports (`import a.b` and `from a.b import c`: `a`)."""
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def detect_framework(source: str) -> str:
    """`Model`'s base class (`nn.Cell`: mindspore, `nn.Module`: torch), else what the file
    imports (a plain class over NumPy arrays: numpy). `torch` when nothing tells."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "torch"  # the task file's own check names the syntax error
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Model":
            bases = [ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases]
            if "Cell" in bases:
                return "mindspore"
            if "Module" in bases:
                return "torch"
    roots = imported_roots(tree)
    return next((name for name in ("mindspore", "torch", "numpy") if name in roots), "torch")
