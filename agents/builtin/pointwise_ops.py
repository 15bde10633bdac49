"""Elementwise aten ops as Triton expressions.

Each entry turns the Triton expressions of an op's operands (strings) and its literal
options into one Triton expression. Inputs of floating type are already float32 when
these run, so every formula computes in float32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from agents.builtin.values import Formula

SQRT1_2 = 0.7071067811865476
SQRT_2_OVER_PI = 0.7978845608028654
LOG2E = 1.4426950408889634
LN2 = 0.6931471805599453


def tanh(x: str) -> str:
    """tanh through sigmoid: Triton has no tl.tanh on every version."""
    return f"(2.0 * tl.sigmoid(2.0 * ({x})) - 1.0)"


def softplus(x: str, beta: float = 1.0, threshold: float = 20.0) -> str:
    bx = f"({x})" if beta == 1.0 else f"({x}) * {beta}"
    soft = f"tl.log(1.0 + tl.exp({bx}))" if beta == 1.0 else f"tl.log(1.0 + tl.exp({bx})) / {beta}"
    return f"tl.where({bx} > {threshold}, ({x}), {soft})"


def gelu(x: str, approximate: str = "none") -> str:
    if approximate == "tanh":
        inner = f"{SQRT_2_OVER_PI} * (({x}) + 0.044715 * ({x}) * ({x}) * ({x}))"
        return f"0.5 * ({x}) * (1.0 + {tanh(inner)})"
    return f"0.5 * ({x}) * (1.0 + tl.erf(({x}) * {SQRT1_2}))"


def elu(x: str, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0) -> str:
    neg = f"{alpha} * (tl.exp(({x}) * {input_scale}) - 1.0)"
    body = f"tl.where(({x}) > 0, ({x}), {neg})"
    return body if scale == 1.0 else f"{scale} * {body}"


def power(x: str, exponent: Any) -> str:
    """x ** exponent for a literal or a scalar-argument exponent."""
    if isinstance(exponent, (int, float)) and float(exponent).is_integer() and 0 <= exponent <= 4:
        n = int(exponent)
        return "1.0" if n == 0 else " * ".join([f"({x})"] * n)
    if exponent == 0.5:
        return f"tl.sqrt({x})"
    if exponent == -0.5:
        return f"tl.rsqrt({x})"
    if exponent == -1:
        return f"(1.0 / ({x}))"
    return f"tl.exp2(({exponent}) * tl.log2({x}))"


def clamp(x: str, lo: Any, hi: Any) -> str:
    out = x
    if lo is not None:
        out = f"tl.maximum({out}, {lo})"
    if hi is not None:
        out = f"tl.minimum({out}, {hi})"
    return out


def add(a: str, b: str, alpha: Any = 1) -> str:
    return f"({a}) + ({b})" if alpha == 1 else f"({a}) + {alpha} * ({b})"


def sub(a: str, b: str, alpha: Any = 1) -> str:
    return f"({a}) - ({b})" if alpha == 1 else f"({a}) - {alpha} * ({b})"


def div(a: str, b: str, rounding_mode: str | None = None) -> str:
    if rounding_mode == "floor":
        return f"tl.floor(({a}) / ({b}))"
    if rounding_mode == "trunc":
        q = f"(({a}) / ({b}))"
        return f"tl.where({q} < 0, tl.ceil({q}), tl.floor({q}))"
    return f"({a}) / ({b})"


def _kw(kwargs: dict[str, Any], name: str, default: Any) -> Any:
    return kwargs.get(name, default)


def _arg(a: Sequence[Any], i: int, default: Any) -> Any:
    return a[i] if len(a) > i else default


# name of the aten overload packet -> formula(operands, options)
POINTWISE: dict[str, Formula] = {
    "add": lambda a, k: add(a[0], a[1], _kw(k, "alpha", _arg(a, 2, 1))),
    "sub": lambda a, k: sub(a[0], a[1], _kw(k, "alpha", _arg(a, 2, 1))),
    "rsub": lambda a, k: sub(a[1], a[0], _kw(k, "alpha", _arg(a, 2, 1))),
    "mul": lambda a, k: f"({a[0]}) * ({a[1]})",
    "div": lambda a, k: div(a[0], a[1], _kw(k, "rounding_mode", _arg(a, 2, None))),
    "true_divide": lambda a, k: div(a[0], a[1]),
    "floor_divide": lambda a, k: div(a[0], a[1], "floor"),
    "remainder": lambda a, k: f"({a[0]}) - tl.floor(({a[0]}) / ({a[1]})) * ({a[1]})",
    "fmod": lambda a, k: f"({a[0]}) - ({div(a[0], a[1], 'trunc')}) * ({a[1]})",
    "neg": lambda a, k: f"-({a[0]})",
    "abs": lambda a, k: f"tl.abs({a[0]})",
    "exp": lambda a, k: f"tl.exp({a[0]})",
    "exp2": lambda a, k: f"tl.exp2({a[0]})",
    "expm1": lambda a, k: f"(tl.exp({a[0]}) - 1.0)",
    "log": lambda a, k: f"tl.log({a[0]})",
    "log2": lambda a, k: f"tl.log2({a[0]})",
    "log10": lambda a, k: f"(tl.log2({a[0]}) * {math.log10(2.0)})",
    "log1p": lambda a, k: f"tl.log(1.0 + ({a[0]}))",
    "sqrt": lambda a, k: f"tl.sqrt({a[0]})",
    "rsqrt": lambda a, k: f"tl.rsqrt({a[0]})",
    "reciprocal": lambda a, k: f"(1.0 / ({a[0]}))",
    "square": lambda a, k: f"({a[0]}) * ({a[0]})",
    "pow": lambda a, k: power(a[0], a[1]),
    "sin": lambda a, k: f"tl.sin({a[0]})",
    "cos": lambda a, k: f"tl.cos({a[0]})",
    "tanh": lambda a, k: tanh(a[0]),
    "sigmoid": lambda a, k: f"tl.sigmoid({a[0]})",
    "erf": lambda a, k: f"tl.erf({a[0]})",
    "floor": lambda a, k: f"tl.floor({a[0]})",
    "ceil": lambda a, k: f"tl.ceil({a[0]})",
    "trunc": lambda a, k: f"tl.where(({a[0]}) < 0, tl.ceil({a[0]}), tl.floor({a[0]}))",
    "round": lambda a, k: f"tl.floor(({a[0]}) + 0.5)",
    "sign": lambda a, k: f"tl.where(({a[0]}) > 0, 1.0, tl.where(({a[0]}) < 0, -1.0, 0.0))",
    "relu": lambda a, k: f"tl.maximum({a[0]}, 0.0)",
    "leaky_relu": lambda a, k: f"tl.where(({a[0]}) > 0, ({a[0]}), ({a[0]}) * {_arg(a, 1, 0.01)})",
    "gelu": lambda a, k: gelu(a[0], _kw(k, "approximate", "none")),
    "silu": lambda a, k: f"({a[0]}) * tl.sigmoid({a[0]})",
    "mish": lambda a, k: f"({a[0]}) * {tanh(softplus(a[0]))}",
    "elu": lambda a, k: elu(a[0], _arg(a, 1, 1.0), _arg(a, 2, 1.0), _arg(a, 3, 1.0)),
    "celu": lambda a, k: elu(a[0], _arg(a, 1, 1.0), 1.0, 1.0 / _arg(a, 1, 1.0)),
    "selu": lambda a, k: elu(a[0], 1.6732632423543772, 1.0507009873554805),
    "softplus": lambda a, k: softplus(a[0], _arg(a, 1, 1.0), _arg(a, 2, 20.0)),
    "hardtanh": lambda a, k: clamp(a[0], _arg(a, 1, -1.0), _arg(a, 2, 1.0)),
    "hardsigmoid": lambda a, k: f"tl.minimum(tl.maximum(({a[0]}) / 6.0 + 0.5, 0.0), 1.0)",
    "hardswish": lambda a, k: f"({a[0]}) * tl.minimum(tl.maximum(({a[0]}) + 3.0, 0.0), 6.0) / 6.0",
    "threshold": lambda a, k: f"tl.where(({a[0]}) > {a[1]}, ({a[0]}), {a[2]})",
    "clamp": lambda a, k: clamp(a[0], _arg(a, 1, k.get("min")), _arg(a, 2, k.get("max"))),
    "clamp_min": lambda a, k: clamp(a[0], a[1], None),
    "clamp_max": lambda a, k: clamp(a[0], None, a[1]),
    "maximum": lambda a, k: f"tl.maximum({a[0]}, {a[1]})",
    "minimum": lambda a, k: f"tl.minimum({a[0]}, {a[1]})",
    "where": lambda a, k: f"tl.where({a[0]}, {a[1]}, {a[2]})",
    "masked_fill": lambda a, k: f"tl.where({a[1]}, {a[2]}, {a[0]})",
    "xlogy": lambda a, k: f"tl.where(({a[0]}) == 0, 0.0, ({a[0]}) * tl.log({a[1]}))",
    "lerp": lambda a, k: f"({a[0]}) + ({a[2]}) * (({a[1]}) - ({a[0]}))",
    "addcmul": lambda a, k: f"({a[0]}) + {k.get('value', 1)} * ({a[1]}) * ({a[2]})",
    "addcdiv": lambda a, k: f"({a[0]}) + {k.get('value', 1)} * ({a[1]}) / ({a[2]})",
    "eq": lambda a, k: f"({a[0]}) == ({a[1]})",
    "ne": lambda a, k: f"({a[0]}) != ({a[1]})",
    "lt": lambda a, k: f"({a[0]}) < ({a[1]})",
    "le": lambda a, k: f"({a[0]}) <= ({a[1]})",
    "gt": lambda a, k: f"({a[0]}) > ({a[1]})",
    "ge": lambda a, k: f"({a[0]}) >= ({a[1]})",
    "logical_and": lambda a, k: f"({a[0]}) & ({a[1]})",
    "logical_or": lambda a, k: f"({a[0]}) | ({a[1]})",
    "logical_not": lambda a, k: f"({a[0]}) == 0",
    "isnan": lambda a, k: f"({a[0]}) != ({a[0]})",
}

# ops that only pass their first operand through (copies, aliases, dtype-preserving views)
IDENTITY = {"clone", "alias", "detach", "contiguous", "lift_fresh_copy", "copy", "dropout"}
