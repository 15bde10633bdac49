"""The product's import graph: no cycles, and no arrow from a lower package to a higher one.

The graph is read from the source (every `import`, at module level, inside functions and under
`TYPE_CHECKING` alike: an import dodged into a function is still an arrow), and every module is
then imported for real in one fresh interpreter. The layer order is written down in
docs/design.md ("Layers"); the known exceptions below name the issue that removes them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom. A package may import the packages of lower layers only; the packages of one
# layer do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("aikg",),
    ("tui",),
    ("machine",),
    ("agents", "verifier", "devicepool", "store"),
    ("configs",),
)

# Cycles known and not yet removed, each named by one module it runs through, and arrows
# against the layer order likewise.
KNOWN_CYCLES: dict[str, str] = {}
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def layer_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def product_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in (p for layer in LAYERS for p in layer):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Every dotted name `module` imports, relative imports resolved; `from p import name`
    gives `p.name`."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module -> the product modules it imports (`from p import name` is an arrow to `p.name`
    when that is a module, else to `p`; a package's `__init__` is not counted when a module
    below it is named)."""
    modules = product_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            step = next(successors, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return found


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = cycles(graph)
    new = [cycle for cycle in found if not KNOWN_CYCLES.keys() & set(cycle)]
    assert not new, f"import cycles: {new}"
    gone = [
        name for name in KNOWN_CYCLES if name in graph and not any(name in cycle for cycle in found)
    ]
    assert not gone, f"fixed cycles still listed as known (remove them): {gone}"


def test_no_arrow_from_a_lower_package_to_a_higher_one() -> None:
    graph = import_graph()
    found: list[tuple[str, str]] = []
    for source, targets in graph.items():
        for target in targets:
            source_package, target_package = source.split(".")[0], target.split(".")[0]
            if source_package == target_package:
                continue
            if layer_of(source_package) >= layer_of(target_package):
                found.append((source, target))
    new = sorted(arrow for arrow in found if arrow not in KNOWN_UPWARD)
    assert not new, f"arrows against the layer order {LAYERS}: {new}"
    gone = sorted(arrow for arrow in KNOWN_UPWARD if arrow not in found)
    assert not gone, f"removed arrows still listed as known (remove them): {gone}"


def test_the_checker_finds_a_cycle_and_skips_a_chain() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [("a", "b", "c")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_product_module_imports() -> None:
    modules = sorted(product_modules())
    program = "import importlib, sys\nfor name in sys.argv[1:]: importlib.import_module(name)"
    result = subprocess.run(
        [sys.executable, "-c", program, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
