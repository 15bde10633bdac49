"""The formula form of prose tasks: the written reference, run, against hand-written torch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from aikg.config import ConfigError, load_config
from machine.formula import ProseError
from machine.prose import formula_reference, is_prose
from machine.spec import check_task_source

REPO = Path(__file__).resolve().parents[2]


def written(prose: str, **values: Any) -> ModuleType:
    """The reference the formula form writes, checked as a task file and imported."""
    event = formula_reference(prose, load_config(overrides=values or None))
    check_task_source(event.source, "torch")
    module = ModuleType("written_reference")
    exec(compile(event.source, "<written reference>", "exec"), module.__dict__)
    return module


def outputs(module: ModuleType) -> tuple[torch.Tensor, list[torch.Tensor], list[Any]]:
    torch.manual_seed(0)
    inputs = module.get_small_inputs()
    init = module.get_init_inputs()
    return module.Model(*init)(*inputs), inputs, init


CASES: list[tuple[str, dict[str, Any], Callable[..., torch.Tensor]]] = [
    (
        "Swish activation function: x * sigmoid(beta * x)",
        {},
        lambda x: x * torch.sigmoid(1.0 * x),
    ),
    (
        "Swish activation function: x * sigmoid(beta * x)",
        {"params": {"beta": 1.5}},
        lambda x: x * torch.sigmoid(1.5 * x),
    ),
    ("Mish: x * tanh(softplus(x))", {}, lambda x: x * torch.tanh(F.softplus(x))),
    (
        "Mixed: gelu(x) + erf(y) * exp(-abs(x)) - relu(y) ** 2",
        {},
        lambda x, y: F.gelu(x) + torch.erf(y) * torch.exp(-x.abs()) - torch.relu(y) ** 2,
    ),
    (
        "Leaky ReLU: where(x > 0, x, alpha * x)",
        {"params": {"alpha": 0.1}},
        lambda x: torch.where(x > 0, x, 0.1 * x),
    ),
    (
        "Safe log: log(abs(x) + eps) + sqrt(abs(x)) / pow(2, x)",
        {"params": {"eps": 1e-3}},
        lambda x: torch.log(x.abs() + 1e-3) + torch.sqrt(x.abs()) / torch.pow(2, x),
    ),
    (
        "Clip between two tensors and bounds: max(min(x, hi), lo) + max(x, y) - min(y, 0.5)",
        {"params": {"hi": 0.5, "lo": -0.25}},
        lambda x, y: x.clamp(max=0.5).clamp(min=-0.25) + torch.maximum(x, y) - y.clamp(max=0.5),
    ),
    (
        "Row statistics: sum(x, dim=1) + mean(x, dim=-1) - max(x, dim=1) * min(x, dim=1)",
        {},
        lambda x: x.sum(1) + x.mean(-1) - x.amax(1) * x.amin(1),
    ),
    (
        "Row norm: x / sqrt(sum(x * x, dim=1, keepdim=True) + eps)",
        {},
        lambda x: x / torch.sqrt((x * x).sum(1, keepdim=True) + 1.0),
    ),
]


@pytest.mark.parametrize(("prose", "values", "expected"), CASES)
def test_written_reference_matches_the_hand_written_expression(
    prose: str, values: dict[str, Any], expected: Callable[..., torch.Tensor]
) -> None:
    module = written(prose, **values)
    got, inputs, _ = outputs(module)
    assert all(t.shape == (8, 64) and t.dtype == torch.float32 for t in inputs)
    assert [t.shape for t in module.get_inputs()] == [(4096, 4096)] * len(inputs)
    torch.testing.assert_close(got, expected(*inputs), equal_nan=True)


def test_shapes_dtypes_and_the_stated_defaults() -> None:
    config = load_config(
        overrides={
            "shapes": {"x": "3x5", "weight": [5]},
            "dtypes": {"x": "float64"},
            "params": {"alpha": 2.0},
        }
    )
    prose = "Scaled: alpha * x * weight + beta"
    event = formula_reference(prose, config)
    # weight is an input because it has a shape; beta a parameter with the stated default
    assert event.inputs == {"x": "3x5 float64", "weight": "5 float32"}
    assert event.parameters == {"alpha": 2.0, "beta": 1.0} and event.defaulted == ["beta"]
    assert "parameter beta = 1.0 (default, stated)" in event.source
    module = written(prose, **config.model_dump(include={"shapes", "dtypes", "params"}))
    got, (x, weight), init = outputs(module)
    assert (x.shape, x.dtype, weight.shape) == ((3, 5), torch.float64, (5,))
    assert init == [2.0, 1.0]
    torch.testing.assert_close(got, 2.0 * x * weight + 1.0)


@pytest.mark.parametrize(
    ("prose", "values", "complaint"),
    [
        ("Swish is a smooth activation", {}, "could not understand 'Swish is a smooth"),
        ("Bad: foo(x)", {}, "unknown function foo"),
        ("Method: x.exp()", {}, "unknown function x.exp"),
        ("Escape: __import__('os')", {}, "unknown function __import__"),
        ("Text: x + 'a'", {}, "only numbers, names"),
        ("Lambda: (lambda: x)()", {}, "unknown function"),
        ("Bare: sigmoid", {}, "sigmoid is a function"),
        ("Huge: x * 1e999", {}, "numbers must be finite"),
        ("Constant: beta * 2", {}, "has no input tensor"),
        ("Hidden: x * forward", {}, "parameter name 'forward' is taken"),
        ("Reduce: sum(x, axis=1)", {}, "the only options are dim="),
        ("Two: sigmoid(x, y)", {}, "sigmoid takes 1 argument"),
        ("Unused: x * beta", {"params": {"gamma": 2.0}}, "has no parameter gamma"),
        ("Kind: x * beta", {"dtypes": {"x": "int8"}}, "use one of float32"),
    ],
)
def test_prose_that_cannot_be_read_names_the_problem_and_the_form(
    prose: str, values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ProseError, match=r"formula|--param|--dtype|parameter name") as caught:
        formula_reference(prose, load_config(overrides=values or None))
    assert complaint in str(caught.value)
    assert "\n" not in str(caught.value)


def test_task_files_and_prose_are_told_apart() -> None:
    assert not is_prose((REPO / "examples" / "swish.py").read_text())
    assert not is_prose("import torch\nclass Model(:\n")  # a broken file stays a file
    assert is_prose("Swish activation function: x * sigmoid(beta * x)")
    assert is_prose("x * sigmoid(x)")
    assert is_prose("# Swish\n\nSwish: x * sigmoid(x)\n")


def test_a_shape_is_sizes_joined_by_x() -> None:
    assert load_config(overrides={"shapes": {"x": "4x8", "y": [3]}}).shapes == {
        "x": [4, 8],
        "y": [3],
    }
    with pytest.raises(ConfigError, match="shape '4xq': write positive sizes joined by x"):
        load_config(overrides={"shapes": {"x": "4xq"}})
