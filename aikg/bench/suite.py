"""Finding and loading benchmark task files (the KernelBench task-file format).

A task file defines `Model`, `get_inputs()` and `get_init_inputs()`; files of this
project's suite add `FAMILY`, `get_small_inputs()` and, where parameter shapes depend on
the init inputs, `get_small_init_inputs()`. Any directory of KernelBench files works:
a file without `FAMILY` is in the family "other".
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_SUITE_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"

FAMILIES = ("pointwise", "reduction", "norm", "matmul", "scan", "loss")

# The suite's minimum number of tasks per group of families (issue 9).
FAMILY_MINIMUMS: dict[tuple[str, ...], int] = {
    ("pointwise",): 10,
    ("reduction",): 6,
    ("norm",): 6,
    ("matmul",): 5,
    ("scan", "loss"): 3,
}


# a task file in prose (docs/prose-tasks.md) is run when named; folders hold .py files
PROSE_SUFFIXES = (".txt", ".md")
PROSE_FAMILY = "prose"


class SuiteError(Exception):
    """A task path or task file that cannot be used; the message names the fix."""


@dataclass(frozen=True)
class SuiteTask:
    path: Path
    op_name: str
    family: str

    def first_input_dtype(self) -> str:
        """The dtype of the task's first tensor input ("float16", ...), "" if it has none.

        Inputs are made on torch's meta device, so nothing is allocated.
        """
        import torch

        try:
            with torch.device("meta"):
                inputs = task_inputs(load_task_module(self.path), small=False)
        except Exception:  # a task that cannot make meta inputs just has no dtype here
            return ""
        tensors = [v for v in inputs if isinstance(v, torch.Tensor)]
        return str(tensors[0].dtype).removeprefix("torch.") if tensors else ""


def read_family(path: Path) -> str:
    """The file's module-level `FAMILY` string, read without running the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "FAMILY" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return "other"


# A file without `FAMILY` (KernelBench's) is placed by the words of its name, first rule
# that matches: "19_ReLU" is pointwise, "41_Max_Pooling_1D" pooling, "23_Softmax" norm.
NAME_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("convolution", ("conv",)),
    ("pooling", ("pool",)),
    ("attention", ("attention",)),
    ("loss", ("loss",)),
    ("scan", ("cumsum", "cumprod", "scan")),
    ("norm", ("norm", "softmax")),
    ("matmul", ("matmul", "matrix", "gemm", "bmm", "linear")),
    ("pointwise", ("relu", "sigmoid", "tanh", "swish", "gelu", "elu", "softplus", "softsign")),
    ("reduction", ("reduction", "argmax", "argmin")),
)


def family_from_name(stem: str) -> str:
    """The family a task file's name says, or "other"."""
    name = stem.lower()
    return next((f for f, words in NAME_FAMILIES if any(w in name for w in words)), "other")


def _family(path: Path) -> str:
    if path.suffix in PROSE_SUFFIXES:
        return PROSE_FAMILY
    declared = read_family(path)
    return family_from_name(path.stem) if declared == "other" else declared


def discover_tasks(paths: Iterable[Path | str], pattern: str | None = None) -> list[SuiteTask]:
    """Task files under `paths` (files or directories), sorted, optionally filtered.

    `pattern` is a shell glob matched against the file stem, or a plain substring of it.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(p for p in sorted(path.glob("*.py")) if not p.name.startswith("_"))
        elif path.is_file() and path.suffix in (".py", *PROSE_SUFFIXES):
            files.append(path)
        else:
            raise SuiteError(
                f"no task file or directory at {path}: pass a .py file, a .txt/.md file "
                "describing a task in prose, or a folder"
            )
    tasks = [SuiteTask(path=p, op_name=p.stem, family=_family(p)) for p in files]
    if pattern:
        tasks = [t for t in tasks if fnmatch.fnmatch(t.op_name, pattern) or pattern in t.op_name]
    return tasks


def load_task_module(path: Path) -> ModuleType:
    """Import a task file as a fresh module and check it has the KernelBench functions."""
    spec = importlib.util.spec_from_file_location(f"aikg_bench_task_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SuiteError(f"cannot import {path}: it must be a Python source file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = [n for n in ("Model", "get_inputs", "get_init_inputs") if not hasattr(module, n)]
    if missing:
        raise SuiteError(f"{path} lacks {', '.join(missing)}: define them as in KernelBench")
    return module


def task_inputs(module: ModuleType, small: bool) -> list[Any]:
    """Forward inputs: `get_small_inputs()` when small and defined, else `get_inputs()`."""
    if small and hasattr(module, "get_small_inputs"):
        return list(module.get_small_inputs())
    return list(module.get_inputs())
