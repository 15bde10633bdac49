"""What an exported op module runs: the custom op, its verified envelope, its fallback.

`aikg export --as op` copies this file's source into every op module (which must work
where aikg is not installed) and runs it there in a namespace of its own, so none of its
names meet the candidate's. It imports only torch. `build` registers one op:

- the kernel (the candidate's `ModelNew`) runs only for inputs inside the envelope the
  verifier tested: device, dtype, rank, shape (exact, or a range where trials at several
  shapes passed), contiguity, and the non-tensor arguments' values; outside it the
  reference computes the result, with one warning per op (an error with `strict`);
- the fake implementation runs the reference on the fake inputs, so output shapes and
  dtypes follow the reference at any shape, under torch.compile and torch.export;
- the backward recomputes through the reference (torch.autograd.grad).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch.func import functional_call

SCHEMA_TYPES = {"tensor": "Tensor", "int": "int", "float": "float", "bool": "bool"}


class OutsideEnvelope(ValueError):
    """Inputs the kernel was never verified on, for an op exported with --strict."""


def build(config: dict[str, Any], reference_model: type, candidate_model: type) -> dict[str, Any]:
    """Register the op of `config` (written by aikg); returns its function and module class."""
    op = _Op(config, reference_model, candidate_model)
    return {"function": op.function(), "Module": op.module_class(), "op": op.custom_op}


class _Op:
    def __init__(self, config: dict[str, Any], reference_model: type, candidate_model: type):
        self.config = config
        self.inputs: list[dict[str, str]] = config["inputs"]
        self.parameter_names: list[str] = config["parameters"]
        self.envelope: dict[str, Any] = config["envelope"]
        init = list(config["init_inputs"])
        torch.manual_seed(config["seed"])
        self.reference = reference_model(*init).eval()
        torch.manual_seed(config["seed"])
        self.candidate = candidate_model(*init).eval()
        self.defaults = dict(self.reference.state_dict())
        self.candidate.load_state_dict(self.defaults, strict=False)
        self.defaults_by_device: dict[torch.device, dict[str, torch.Tensor]] = {}
        self.warned = False
        self.custom_op = self._register()

    # -- the op ---------------------------------------------------------------------------

    def _schema(self) -> str:
        arguments = [f"{SCHEMA_TYPES[i['kind']]} in{n}" for n, i in enumerate(self.inputs)]
        arguments += [f"Tensor p{n}" for n in range(len(self.parameter_names))]
        count = self.config["outputs"]
        returns = f"({', '.join(['Tensor'] * count)})" if self.config["output_tuple"] else "Tensor"
        return f"({', '.join(arguments)}) -> {returns}"

    def _register(self) -> Any:
        custom_op = torch.library.custom_op(
            self.config["qualname"], self._run, mutates_args=(), schema=self._schema()
        )
        custom_op.register_fake(self._fake)
        custom_op.register_autograd(self._backward, setup_context=self._setup_context)
        return custom_op

    def _split(self, args: Sequence[Any]) -> tuple[list[Any], dict[str, torch.Tensor]]:
        count = len(self.inputs)
        return list(args[:count]), dict(zip(self.parameter_names, args[count:], strict=True))

    def _outputs(self, model: torch.nn.Module, args: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        inputs, parameters = self._split(args)
        out = functional_call(model, parameters, tuple(inputs))
        return tuple(out) if isinstance(out, tuple | list) else (out,)

    def _returned(self, outputs: tuple[torch.Tensor, ...]) -> Any:
        return outputs if self.config["output_tuple"] else outputs[0]

    def _run(self, *args: Any) -> Any:
        reason = outside_envelope(self.envelope, *self._split(args))
        if reason is None:
            with torch.no_grad():
                outputs = self._outputs(self.candidate, args)
        else:
            self._outside(reason)
            with torch.no_grad():
                outputs = self._outputs(self.reference, args)
        return self._returned(_fresh(outputs, args))

    def _outside(self, reason: str) -> None:
        name = self.config["qualname"]
        if self.config["strict"]:
            raise OutsideEnvelope(
                f"aikg op {name}: {reason}; the kernel was verified only for "
                f"{describe_envelope(self.envelope)}: pass such inputs, or export without "
                "--strict to fall back to the reference there"
            )
        if not self.warned:
            self.warned = True
            warnings.warn(
                f"aikg op {name}: {reason}; running the reference instead of the kernel "
                "(warned once)",
                RuntimeWarning,
                stacklevel=3,
            )

    def _fake(self, *args: Any) -> Any:
        outputs = self._outputs(self.reference, args)
        return self._returned(
            tuple(torch.empty(o.shape, dtype=o.dtype, device=o.device) for o in outputs)
        )

    # -- autograd: recompute through the reference ------------------------------------------

    def _setup_context(self, ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        ctx.tensor_positions = [n for n, v in enumerate(inputs) if isinstance(v, torch.Tensor)]
        ctx.others = {n: v for n, v in enumerate(inputs) if not isinstance(v, torch.Tensor)}
        ctx.save_for_backward(*(inputs[n] for n in ctx.tensor_positions))

    def _backward(self, ctx: Any, *grads: Any) -> tuple[Any, ...]:
        args: list[Any] = [None] * (len(ctx.tensor_positions) + len(ctx.others))
        for position, tensor in zip(ctx.tensor_positions, ctx.saved_tensors, strict=True):
            args[position] = tensor
        for position, value in ctx.others.items():
            args[position] = value
        wanted = [n for n in ctx.tensor_positions if args[n].is_floating_point()]
        with torch.enable_grad():
            leaves = [args[n].detach().requires_grad_() for n in wanted]
            for position, leaf in zip(wanted, leaves, strict=True):
                args[position] = leaf
            outputs = self._outputs(self.reference, args)
            pairs = [(o, g) for o, g in zip(outputs, grads, strict=True) if g is not None]
            found = torch.autograd.grad(
                [o for o, _ in pairs], leaves, [g for _, g in pairs], allow_unused=True
            )
        result: list[Any] = [None] * len(args)
        for position, grad in zip(wanted, found, strict=True):
            result[position] = grad
        return tuple(result)

    # -- what users call -----------------------------------------------------------------------

    def _call(self, inputs: Sequence[Any], parameters: Mapping[str, torch.Tensor] | None) -> Any:
        if parameters is None:
            parameters = self._defaults_near(inputs)
        missing = [name for name in self.parameter_names if name not in parameters]
        if missing:
            raise KeyError(
                f"aikg op {self.config['qualname']}: parameters lack {missing}: pass every "
                f"one of {self.parameter_names} (the reference's state_dict names)"
            )
        return self.custom_op(*inputs, *(parameters[name] for name in self.parameter_names))

    def _defaults_near(self, inputs: Sequence[Any]) -> dict[str, torch.Tensor]:
        device = next(
            (v.device for v in inputs if isinstance(v, torch.Tensor)), torch.device("cpu")
        )
        if device not in self.defaults_by_device:
            moved = {k: v.to(device) for k, v in self.defaults.items()}
            self.defaults_by_device[device] = moved
        return self.defaults_by_device[device]

    def function(self) -> Callable[..., Any]:
        """A plain function with the reference forward's arguments, plus `parameters=`."""
        names = [i["name"] for i in self.inputs]
        listed = ", ".join(names)
        source = (
            f"def _op_function({listed}, *, parameters=None):\n"
            f"    return _op_call(({listed},), parameters)\n"
        )
        # Defined among this module's globals (one runtime per op module), which
        # torch.compile can import by name when it traces the function and guards on it.
        namespace = globals()
        namespace["_op_call"] = self._call
        exec(compile(source, f"<aikg op {self.config['qualname']}>", "exec"), namespace)
        function = namespace.pop("_op_function")
        function.__name__ = function.__qualname__ = self.config["name"]
        function.__doc__ = (
            f"The verified kernel of {self.config['qualname']}; `parameters` maps the "
            "reference's state_dict names to tensors (default: the weights the reference "
            "builds from its recorded init inputs)."
        )
        return function

    def module_class(self) -> type:
        """The reference's Model with forward running the op: a drop-in replacement."""
        op = self

        verified_init = list(self.config["init_inputs"])

        class OpModule(type(self.reference)):  # type: ignore[misc, valid-type]
            def __init__(self, *init_inputs: Any, **named: Any) -> None:
                super().__init__(*init_inputs, **named)
                # The kernel was verified for one model: other constructor arguments
                # (a scale, an eps) may change what forward computes beyond its weights.
                self.aikg_init_inputs = [*init_inputs, *named.values()]

            def forward(self, *inputs: Any) -> Any:
                if self.aikg_init_inputs != verified_init:
                    op._outside(
                        f"{type(self).__name__} was built with {self.aikg_init_inputs}, "
                        f"verified with {verified_init}"
                    )
                    return super().forward(*inputs)
                # named_* rather than state_dict(): torch 2.11's dynamo cannot trace the
                # latter (it sets metadata on an OrderedDict), a graph break in fullgraph.
                weights = {**dict(self.named_parameters()), **dict(self.named_buffers())}
                return op._call(inputs, weights)

        OpModule.__name__ = OpModule.__qualname__ = f"{self.config['class_name']}"
        return OpModule


def _fresh(outputs: tuple[torch.Tensor, ...], args: Sequence[Any]) -> tuple[torch.Tensor, ...]:
    """Contiguous outputs that share no memory with the inputs (a custom op's contract)."""
    storages = {
        v.untyped_storage().data_ptr() for v in args if isinstance(v, torch.Tensor) and v.numel()
    }
    fresh = []
    for out in outputs:
        out = out.contiguous()
        if out.numel() and out.untyped_storage().data_ptr() in storages:
            out = out.clone()
        fresh.append(out)
    return tuple(fresh)


def outside_envelope(
    envelope: dict[str, Any], inputs: Sequence[Any], parameters: Mapping[str, torch.Tensor]
) -> str | None:
    """Why these inputs are outside what the verifier tested; None when inside."""
    for name, value, rule in zip(envelope["names"], inputs, envelope["inputs"], strict=True):
        reason = _tensor_outside(name, value, rule, envelope["device"])
        if reason:
            return reason
    for name, rule in envelope["parameters"].items():
        reason = _tensor_outside(f"parameter {name}", parameters[name], rule, envelope["device"])
        if reason:
            return reason
    return None


def _tensor_outside(name: str, value: Any, rule: dict[str, Any], device: str) -> str | None:
    if "values" in rule:
        if value not in rule["values"]:
            return f"{name}={value!r} was never verified (verified: {rule['values']})"
        return None
    if not isinstance(value, torch.Tensor):
        return f"{name} is a {type(value).__name__}, verified as a tensor"
    if value.device.type != device:
        return f"{name} is on {value.device.type}, verified on {device}"
    dtype = str(value.dtype).removeprefix("torch.")
    if dtype not in rule["dtypes"]:
        return f"{name} has dtype {dtype}, verified {'/'.join(rule['dtypes'])}"
    if value.dim() != len(rule["dims"]):
        return f"{name} has rank {value.dim()}, verified rank {len(rule['dims'])}"
    for axis, (size, (low, high)) in enumerate(zip(value.shape, rule["dims"], strict=True)):
        if not low <= size <= high:
            return f"{name} has size {size} on dim {axis}, verified {_span(low, high)}"
    if not value.is_contiguous():
        return f"{name} is not contiguous (a strided view), verified contiguous"
    return None


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}..{high}"


def describe_envelope(envelope: dict[str, Any]) -> str:
    parts = []
    for name, rule in zip(envelope["names"], envelope["inputs"], strict=True):
        if "values" in rule:
            parts.append(f"{name} in {rule['values']}")
        else:
            shape = "x".join(_span(low, high) for low, high in rule["dims"])
            parts.append(f"{name} {'/'.join(rule['dtypes'])} [{shape}] contiguous")
    return f"{', '.join(parts)} on {envelope['device']}"
