"""Which input shapes a task offers: the trial shape and the generalization shapes.

The trials run at one shape: ``get_inputs()``, or ``get_small_inputs()`` with small
shapes. A kernel that bakes in an element count passes there, so the candidate is also
run at every other shape the task offers (a "generalization trial"):

- ``get_small_inputs()``, when the trials run ``get_inputs()`` and the task has no
  ``get_small_init_inputs()`` (whose model would differ);
- each entry of ``get_input_variants()``: a task-level function returning a list of input
  lists (fresh random values, like ``get_inputs()``), for the same model. Keep them small
  enough for the CPU interpreter: they run with small shapes too.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

InputMaker = Callable[[], list[Any]]
VARIANTS_FUNCTION = "get_input_variants"


def trial_inputs_maker(task: ModuleType, small: bool) -> InputMaker:
    """The function that makes the trials' inputs."""
    small_maker = getattr(task, "get_small_inputs", None) if small else None
    return small_maker or task.get_inputs


def generalization_makers(task: ModuleType, small: bool) -> list[tuple[str, InputMaker]]:
    """(label, input maker) for each shape other than the trials' one."""
    makers: list[tuple[str, InputMaker]] = []
    small_maker = getattr(task, "get_small_inputs", None)
    if not small and callable(small_maker) and not hasattr(task, "get_small_init_inputs"):
        makers.append(("get_small_inputs()", small_maker))
    variants = getattr(task, VARIANTS_FUNCTION, None)
    if callable(variants):
        count = len(list(variants()))
        for index in range(count):
            makers.append((f"{VARIANTS_FUNCTION}()[{index}]", _variant(variants, index)))
    return makers


def _variant(variants: Callable[[], Any], index: int) -> InputMaker:
    def make() -> list[Any]:
        return list(list(variants())[index])

    return make
