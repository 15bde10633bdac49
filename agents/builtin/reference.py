"""Load a KernelBench task file and trace its forward into an aten graph.

The reference runs in a fresh module namespace. `Model` is built on the meta device, put
in eval mode as the verifier runs it, and traced with `make_fx(tracing_mode="symbolic")`
without duck sizing, so no real tensor is allocated and the graph stays generic in the
input sizes. Float attributes set from constructor arguments (e.g. `self.beta = beta`)
are found by tracing a second time with sentinel values: the literals that change to a
sentinel become scalar kernel arguments fed from `self.<attr>`.
"""

from __future__ import annotations

import inspect
import math
import types
from dataclasses import dataclass, field
from typing import Any

import torch
from torch._decomp import get_decompositions
from torch.func import functional_call
from torch.fx import GraphModule
from torch.fx.experimental import _config as fx_config
from torch.fx.experimental.proxy_tensor import make_fx

from agents.builtin.errors import LLM_HINT
from agents.builtin.init_source import init_body
from agents.builtin.numpy_bridge import numpy_forward, to_meta
from agents.types import Unsupported

# nll_loss (cross-entropy after log_softmax) as a gather of the target's log-probability,
# a mask for ignore_index and a masked mean: ops the lowering knows
DECOMPOSITIONS = get_decompositions([torch.ops.aten.nll_loss_forward])


@dataclass(frozen=True)
class Placeholder:
    """A graph input: a forward argument, a parameter or a buffer."""

    node_name: str
    host: str  # host expression: "x" or "self.linear.weight"
    role: str  # input | param | buffer


@dataclass
class Traced:
    """The traced graph and what the renderer needs to rebuild the module around it."""

    graph: GraphModule
    placeholders: list[Placeholder]
    forward_args: list[str]
    init_signature: str  # text of Model.__init__'s parameters, without self
    init_assignments: list[tuple[str, str]]  # (attr, expression) set in ModelNew.__init__
    params: list[tuple[str, tuple[int, ...], str, str]]  # (path, shape, dtype, kind)
    scalar_bindings: dict[tuple[str, int], str] = field(default_factory=dict)
    output_is_tuple: bool = False
    symbols: dict[str, str] = field(default_factory=dict)  # sympy symbol -> host expression
    init_body: list[str] | None = None  # Model.__init__'s body, when it can be copied
    init_imports: list[str] = field(default_factory=list)  # the imports that body needs
    int_attrs: dict[str, int] = field(default_factory=dict)  # e.g. groups, for group norm


def _attribute(path: str) -> str:
    """The host expression of a parameter's dotted path: `self.network[0].weight` for the
    first layer of an nn.Sequential (`network.0.weight`), `self.linear.weight` otherwise."""
    return "self" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path.split("."))


def load_module(source: str, name: str = "aikg_reference") -> types.ModuleType:
    """Execute a task file in a fresh module namespace."""
    module = types.ModuleType(name)
    try:
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    except Exception as exc:
        raise Unsupported(
            ["<reference>"], f"the reference does not run ({type(exc).__name__}: {exc})"
        ) from exc
    for required in ("Model", "get_inputs", "get_init_inputs"):
        if required not in module.__dict__:
            raise Unsupported(
                ["<reference>"],
                f"the reference defines no `{required}`; a task file needs Model, get_inputs "
                "and get_init_inputs",
            )
    return module


def _init_args(module: types.ModuleType) -> list[Any]:
    with torch.device("meta"):
        return list(module.get_init_inputs())


def _example_inputs(module: types.ModuleType, framework: str) -> list[Any]:
    """Example inputs as meta tensors, so nothing is allocated.

    get_inputs() comes first: its sizes are the ones the init inputs' parameters were
    made for. NumPy arrays are real, so NumPy tasks use get_small_inputs() when they can.
    """
    small = getattr(module, "get_small_inputs", None)
    makers = [module.get_inputs] + ([small] if small else [])
    if framework == "numpy" and small:
        makers.reverse()
    error: Exception | None = None
    for make in makers:
        try:
            with torch.device("meta"):
                return [to_meta(v) for v in make()]
        except Exception as exc:
            error = exc
    assert error is not None
    raise error


def _float_attrs(model: Any) -> dict[str, float]:
    return {
        k: v
        for k, v in vars(model).items()
        if not k.startswith("_") and isinstance(v, float) and not isinstance(v, bool)
    }


def _init_signature(cls: type) -> str:
    """Model.__init__'s parameters without self and without annotations."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return ", ".join(str(p.replace(annotation=inspect.Parameter.empty)) for p in params)


def _forward_args(model: Any) -> list[str]:
    params = inspect.signature(model.forward).parameters.values()
    names = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise Unsupported(["<forward>"], "forward takes *args/**kwargs; " + LLM_HINT)
        names.append(p.name)
    return names


def attributes_as_buffers(model: Any) -> list[str]:
    """Make every plain tensor attribute (`self.scale = torch.rand(n)`) a non-persistent
    buffer, so tracing sees it as a graph input; returns their dotted paths."""
    if not isinstance(model, torch.nn.Module):
        return []
    paths = []
    for prefix, sub in model.named_modules():
        for name, value in list(vars(sub).items()):
            if isinstance(value, torch.Tensor) and not name.startswith("_"):
                delattr(sub, name)
                sub.register_buffer(name, value, persistent=False)
                paths.append(f"{prefix}.{name}" if prefix else name)
    return paths


def _trace(model: Any, inputs: list[Any], framework: str) -> GraphModule:
    params = dict(model.named_parameters()) if isinstance(model, torch.nn.Module) else {}
    buffers = dict(model.named_buffers()) if isinstance(model, torch.nn.Module) else {}

    def run(p: dict, b: dict, *args: Any) -> Any:
        if framework == "numpy":
            return numpy_forward(model, args)
        return functional_call(model, (p, b), args)

    # no duck sizing: two dims that happen to be equal must stay two sizes
    with fx_config.patch(use_duck_shape=False):
        # tensors made in forward on the inputs' (meta) device become graph constants
        # that the lowering names, instead of stopping the tracer
        return make_fx(
            run,
            tracing_mode="symbolic",
            decomposition_table=DECOMPOSITIONS,
            _allow_non_fake_inputs=True,
        )(params, buffers, *inputs)


def _literals(gm: GraphModule) -> list[tuple[tuple[str, int], Any]]:
    out = []
    for node in gm.graph.nodes:
        if node.op != "call_function":
            continue
        flat = list(node.args) + list(node.kwargs.values())
        out.extend(((node.name, i), a) for i, a in enumerate(flat))
    return out


def _bindings(
    cls: type, init_args: list[Any], inputs: list[Any], framework: str, gm: GraphModule
) -> dict[tuple[str, int], str]:
    """Literal positions that carry a float attribute, found with sentinel values."""
    with torch.device("meta"):
        probe = cls(*init_args)
    if isinstance(probe, torch.nn.Module):
        probe.eval()
    attributes_as_buffers(probe)
    attrs = _float_attrs(probe)
    if not attrs:
        return {}
    sentinels = {name: 0.123456789 + 0.0101 * i for i, name in enumerate(sorted(attrs))}
    for name, value in sentinels.items():
        setattr(probe, name, value)
    try:
        marked = _trace(probe, inputs, framework)
    except Exception:
        return {}
    plain, probed = _literals(gm), _literals(marked)
    if [k for k, _ in plain] != [k for k, _ in probed]:
        return {}
    by_value = {v: k for k, v in sentinels.items()}
    return {
        key: by_value[new]
        for (key, old), (_, new) in zip(plain, probed, strict=True)
        if isinstance(new, float) and new in by_value and old != new
    }


def _symbols(gm: GraphModule, placeholders: list[Placeholder]) -> dict[str, str]:
    symbols: dict[str, str] = {}
    nodes = {n.name: n for n in gm.graph.nodes}
    ordered = sorted(placeholders, key=lambda ph: ph.role != "input")  # inputs first
    for ph in ordered:
        val = nodes[ph.node_name].meta.get("val")
        for d, size in enumerate(getattr(val, "shape", ())):
            if isinstance(size, torch.SymInt):
                symbols.setdefault(str(size), f"{ph.host}.shape[{d}]")
    return symbols


# how many references this process has begun to trace (the provider traces each one once)
traces_started = 0


def trace_reference(source: str, framework: str) -> Traced:
    """Trace the task file's Model.forward into aten ops (raises Unsupported)."""
    global traces_started
    traces_started += 1
    if framework == "mindspore" or "import mindspore" in source:
        raise Unsupported(
            ["<mindspore>"],
            "the builtin agent does not lower MindSpore references; " + LLM_HINT,
        )
    module = load_module(source)
    cls = module.Model
    init_args = _init_args(module)
    try:
        with torch.device("meta"):
            model = cls(*init_args)
        if isinstance(model, torch.nn.Module):
            model.eval()  # as the verifier runs it: batch norm uses its running statistics
        attributes = attributes_as_buffers(model)
        inputs = _example_inputs(module, framework)
    except Exception as exc:
        raise Unsupported(
            ["<reference>"], f"cannot build Model on the meta device ({exc}); " + LLM_HINT
        ) from exc
    forward_args = _forward_args(model)
    try:
        gm = _trace(model, inputs, framework)
    except Unsupported:
        raise
    except Exception as exc:
        if "is not on the expected device meta" in str(exc):
            raise Unsupported(
                ["<trace>"],
                "forward mixes a tensor it makes on the CPU (torch.tensor or torch.arange "
                "without device=) with its inputs; make it a buffer in __init__, or " + LLM_HINT,
            ) from exc
        raise Unsupported(
            ["<trace>"],
            f"torch cannot trace this forward ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else ''}); " + LLM_HINT,
        ) from exc
    is_module = isinstance(model, torch.nn.Module)
    named_params = list(model.named_parameters()) if is_module else []
    named_buffers = list(model.named_buffers()) if is_module else []
    roles = [(_attribute(n), "param") for n, _ in named_params]
    roles += [(_attribute(n), "buffer") for n, _ in named_buffers]
    roles += [(a, "input") for a in forward_args]
    phs = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(phs) != len(roles):
        raise Unsupported(
            ["<forward>"],
            f"forward's arguments ({', '.join(forward_args)}) do not pass one tensor each "
            f"(the traced graph has {len(phs) - len(roles) + len(forward_args)} tensor "
            "inputs): a list or tuple of tensors, or an argument that is not a tensor; " + LLM_HINT,
        )
    placeholders = [
        Placeholder(node.name, host, role) for node, (host, role) in zip(phs, roles, strict=True)
    ]
    signature = _init_signature(cls)
    bound = inspect.signature(cls.__init__).bind(None, *init_args)
    bound.apply_defaults()
    init_values = list(bound.arguments.items())[1:]
    assignments = []
    for attr, value in _float_attrs(model).items():
        source_arg = next(
            (n for n, v in init_values if isinstance(v, float) and v == value),
            None,
        )
        assignments.append((attr, source_arg or _float_literal(value)))
    params = [(n, tuple(p.shape), str(p.dtype), "param") for n, p in named_params]
    params += [
        (n, tuple(b.shape), str(b.dtype), "attribute" if n in attributes else "buffer")
        for n, b in named_buffers
    ]
    copied = init_body(source, module) if is_module else None
    if attributes and copied is None:
        raise Unsupported(
            ["<attribute>"],
            f"Model holds tensor attribute(s) {', '.join('self.' + a for a in attributes)} "
            "outside its state_dict, and Model.__init__ uses names from the task file, so "
            "ModelNew cannot make them the same way; register them with "
            "self.register_buffer, or " + LLM_HINT,
        )
    return Traced(
        graph=gm,
        placeholders=placeholders,
        forward_args=forward_args,
        init_signature=signature,
        init_assignments=assignments,
        params=params,
        scalar_bindings=_bindings(cls, init_args, inputs, framework, gm),
        output_is_tuple=_returns_a_sequence(model, inputs, framework),
        symbols=_symbols(gm, placeholders),
        int_attrs={
            k: v
            for k, v in vars(model).items()
            if not k.startswith("_") and isinstance(v, int) and not isinstance(v, bool)
        },
        init_body=copied[0] if copied else None,
        init_imports=copied[1] if copied else [],
    )


def _returns_a_sequence(model: Any, inputs: list[Any], framework: str) -> bool:
    """Whether forward returns a tuple or list (the traced graph always holds a list)."""
    try:
        with torch.device("meta"):
            result = numpy_forward(model, inputs) if framework == "numpy" else model(*inputs)
    except Exception as exc:
        raise Unsupported(
            ["<forward>"],
            f"forward does not run on meta tensors ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else ''}): it reads tensor values "
            "on the host; " + LLM_HINT,
        ) from exc
    return isinstance(result, (tuple, list))


def _float_literal(value: float) -> str:
    if math.isinf(value) or math.isnan(value):
        return f'float("{value}")'
    return repr(value)
