"""A task's parameters (`TaskSpec`) and their checks, before anything is recorded or spent."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from verifier.task_framework import imported_roots

BACKENDS = ("cuda", "cpu", "ascend")
IMPL_TYPES = ("triton", "swft")
FRAMEWORKS = ("torch", "numpy", "mindspore")
TASK_TYPES = ("precision_only", "profile")
ARCHS: dict[str, tuple[str, ...]] = {
    "cpu": ("cpu",),
    "cuda": (
        "a100",
        "a10",
        "a10g",
        "h100",
        "h800",
        "h20",
        "h200",
        "l20",
        "l40",
        "l40s",
        "l4",
        "v100",
        "b200",
        "rtx4090",
    ),
    "ascend": ("ascend910b1", "ascend910b2", "ascend910b3", "ascend910b4", "ascend310p3"),
}
DEFAULT_ARCH = {"cpu": "cpu", "cuda": "h100", "ascend": "ascend910b4"}


class TaskSpecError(ValueError):
    """A task parameter or task file that cannot be used; one line naming the fix."""


@dataclass(frozen=True)
class TaskSpec:
    """What a task is: the parameters `task.created` records (its first fields: the event is a
    TaskSpec) and every run reads. `checked_spec` builds one for this machine; a recorded one
    is read back as it is (replay needs no device)."""

    task_id: str
    op_name: str
    task_desc: str
    backend: str
    arch: str
    impl_type: str
    framework: str
    task_type: str
    limit_steps: int

    def differences(self, other: TaskSpec) -> list[str]:
        """The parameters that make `other` another task (the id and step limit do not)."""
        return [
            f.name
            for f in dataclasses.fields(TaskSpec)
            if f.name not in ("task_id", "limit_steps")
            and getattr(self, f.name) != getattr(other, f.name)
        ]


def new_task_id(op_name: str) -> str:
    return f"{op_name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def checked_spec(
    *,
    op_name: str,
    task_desc: str,
    task_id: str | None,
    backend: str,
    arch: str | None,
    impl_type: str,
    framework: str,
    task_type: str,
    limit_steps: int,
) -> TaskSpec:
    """The spec these parameters make on this machine (the arch detected when not given);
    the first that cannot be used is a one-line TaskSpecError. The task file is checked
    apart (`check_task_source`): a task in prose has none yet."""
    if not op_name or not op_name.replace("_", "").replace("-", "").isalnum():
        raise TaskSpecError(f"op_name {op_name!r}: use letters, digits, '_' or '-'")
    if task_type not in TASK_TYPES:
        raise TaskSpecError(f"task_type {task_type!r}: use one of {', '.join(TASK_TYPES)}")
    if isinstance(limit_steps, bool) or not isinstance(limit_steps, int) or limit_steps < 1:
        raise TaskSpecError(f"limit_steps must be a positive integer, got {limit_steps!r}")
    if framework not in FRAMEWORKS:
        raise TaskSpecError(f"framework {framework!r}: use one of {', '.join(FRAMEWORKS)}")
    return TaskSpec(
        task_id=task_id or new_task_id(op_name),
        op_name=op_name,
        task_desc=task_desc,
        backend=backend,
        arch=check_combination(backend, arch, impl_type, framework),
        impl_type=impl_type,
        framework=framework,
        task_type=task_type,
        limit_steps=limit_steps,
    )


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise TaskSpecError(f"{name} {value!r} is not supported: use one of {', '.join(allowed)}")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _triton_for_ascend() -> bool:
    """Triton-Ascend installs as `triton` with an `ascend` (or, from 3.3, `cann`) backend."""
    spec = importlib.util.find_spec("triton")
    if spec is None or not spec.submodule_search_locations:
        return False
    return any(
        (Path(root) / "backends" / name).is_dir()
        for root in spec.submodule_search_locations
        for name in ("ascend", "cann")
    )


def _match_arch(backend: str, device_name: str) -> str:
    name = device_name.lower().replace(" ", "")
    for arch in sorted(ARCHS[backend], key=len, reverse=True):
        if arch in name:
            return arch
    return DEFAULT_ARCH[backend]


def detect_cuda_arch() -> str:
    """The arch name of cuda:0 (e.g. h100), or the default when it is not recognised."""
    import torch

    return _match_arch("cuda", torch.cuda.get_device_name(0))


def detect_ascend_arch() -> str:
    """The arch name of npu:0 (e.g. ascend910b4), or the default when it is not recognised."""
    import torch

    return _match_arch("ascend", torch.npu.get_device_name(0))  # type: ignore[attr-defined]


def check_combination(backend: str, arch: str | None, impl_type: str, framework: str) -> str:
    """Validate backend/arch/impl_type/framework; return the arch to use.

    Every rejection is a one-line TaskSpecError naming the fix; nothing is recorded or
    spent before this passes.
    """
    _one_of("backend", backend, BACKENDS)
    _one_of("impl_type", impl_type, IMPL_TYPES)
    _one_of("framework", framework, FRAMEWORKS)
    if arch is not None and arch not in ARCHS[backend]:
        raise TaskSpecError(
            f"arch {arch!r} is not known for backend {backend!r}: "
            f"use one of {', '.join(ARCHS[backend])}"
        )
    if impl_type == "swft" and backend != "ascend":
        raise TaskSpecError(
            f"impl_type 'swft' needs backend 'ascend', not {backend!r}: "
            "use --impl-type triton, or --backend ascend on an Ascend host"
        )
    if framework == "mindspore" and not _installed("mindspore"):
        raise TaskSpecError("framework 'mindspore' needs MindSpore: pip install 'aikg[mindspore]'")
    if backend == "ascend":
        return _check_ascend(arch, impl_type)
    if backend == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise TaskSpecError("backend 'cuda' but no CUDA device is visible: use --backend cpu")
        return arch or detect_cuda_arch()
    return arch or DEFAULT_ARCH[backend]


def _check_ascend(arch: str | None, impl_type: str) -> str:
    missing = [] if _installed("torch_npu") else ["torch_npu"]
    if impl_type == "triton" and not _triton_for_ascend():
        missing.append("Triton for Ascend (triton-ascend)")
    if impl_type == "swft" and not _installed("swft"):
        missing.append("swft")
    if missing:
        raise TaskSpecError(
            f"backend 'ascend' with impl_type {impl_type!r} needs {', '.join(missing)} and an "
            "Ascend NPU: install them on an Ascend host, or use --backend cpu"
        )
    import torch
    import torch_npu  # noqa: F401  (adds torch.npu)

    if not torch.npu.is_available():  # type: ignore[attr-defined]
        raise TaskSpecError("backend 'ascend' but no Ascend NPU is visible: use --backend cpu")
    return arch or detect_ascend_arch()


def check_task_source(source: str, framework: str, where: str = "task file") -> None:
    """The KernelBench contract: `class Model`, `get_inputs()`, `get_init_inputs()`."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise TaskSpecError(f"{where} line {exc.lineno}: syntax error: {exc.msg}") from None
    names = {
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    }
    names |= {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    missing = [n for n in ("Model", "get_inputs", "get_init_inputs") if n not in names]
    if missing:
        raise TaskSpecError(
            f"{where} lacks {', '.join(missing)}: a task file defines class Model, "
            "get_inputs() and get_init_inputs() (KernelBench format)"
        )
    _check_framework_matches(tree, framework, where)


def _model_is_torch_module(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Model":
            return any(ast.unparse(base) in ("nn.Module", "torch.nn.Module") for base in node.bases)
    return False


def _check_framework_matches(tree: ast.Module, framework: str, where: str) -> None:
    """The task file is written for the framework asked for (clear-cut mismatches only)."""
    roots = imported_roots(tree)
    if "mindspore" in roots and framework != "mindspore":
        raise TaskSpecError(
            f"{where} imports mindspore but framework is {framework!r}: pass --framework mindspore"
        )
    if framework == "mindspore" and "mindspore" not in roots:
        raise TaskSpecError(
            f"framework 'mindspore' but {where} does not import mindspore: its Model must be "
            "a mindspore nn.Cell, or pass --framework torch|numpy"
        )
    if framework == "numpy" and _model_is_torch_module(tree):
        raise TaskSpecError(
            f"framework 'numpy' but {where}'s Model is a torch nn.Module: pass --framework torch"
        )
    if framework == "torch" and "torch" not in roots and "numpy" in roots:
        raise TaskSpecError(
            f"{where} imports numpy but not torch: for a NumPy reference pass --framework numpy"
        )
