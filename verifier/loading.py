"""Loading a reference or candidate from source into a fresh module, and building models.

Sources are written into a private directory and imported from there, so Triton (which
reads kernel source through ``inspect``) sees a real file.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from verifier.frameworks import reference_state, seed_frameworks

_counter = itertools.count()


def load_module(source: str, stem: str, directory: Path) -> ModuleType:
    """Writes ``source`` to ``directory`` under a unique name and imports it."""
    name = f"aikg_{stem}_{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unload(module: ModuleType) -> None:
    sys.modules.pop(module.__name__, None)


def init_inputs(task: ModuleType, small: bool = False) -> list[Any]:
    """The constructor's arguments: ``get_small_init_inputs()`` for small shapes, if any."""
    init_fn = getattr(task, "get_init_inputs", None)
    if small and hasattr(task, "get_small_init_inputs"):
        init_fn = task.get_small_init_inputs
    return list(init_fn()) if init_fn is not None else []


def build_model(
    model_cls: Any, task: ModuleType, seed: int, device: str, small: bool = False
) -> Any:
    """``model_cls(*task.get_init_inputs())`` under ``seed``, moved to ``device`` if it can be.

    With ``small``, a task's ``get_small_init_inputs()`` (if any) gives the constructor's
    arguments, so parameter shapes match ``get_small_inputs()``.
    """
    torch.manual_seed(seed)
    seed_frameworks(seed)
    init = init_inputs(task, small)
    torch.manual_seed(seed)
    seed_frameworks(seed)
    model = model_cls(*init)
    if isinstance(model, torch.nn.Module):
        model = model.to(device).eval()
    return model


def model_call(model: Any) -> Any:
    """What to call to run ``model``: the model itself, or the ``forward`` of a plain class.

    NumPy references may be plain classes with only ``forward``; a MindSpore ``nn.Cell``
    and a torch module are called directly (which runs ``construct``/``forward``).
    """
    if callable(model):
        return model
    forward = getattr(model, "forward", None)
    if not callable(forward):
        raise TypeError(f"{type(model).__name__} defines neither forward nor __call__")
    return forward


def share_parameters(reference: Any, candidate: Any) -> None:
    """Loads the reference's weights into the candidate where names, shapes and dtypes match.

    The reference may be a torch module, a MindSpore cell or a plain NumPy class.
    """
    if not isinstance(candidate, torch.nn.Module):
        return
    wanted = candidate.state_dict()
    matching = {
        k: v
        for k, v in reference_state(reference).items()
        if k in wanted and wanted[k].shape == v.shape and wanted[k].dtype == v.dtype
    }
    if matching:
        candidate.load_state_dict(matching, strict=False)
