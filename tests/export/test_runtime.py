"""The op runtime on its own (aikg/export_op/runtime.py): int and float arguments, a buffer,
two outputs, and the strict error — forms the exported bias_relu task does not have. The
"candidate" here is plain torch: these tests are about the op's plumbing, not a kernel."""

from __future__ import annotations

import warnings

import pytest
import torch

from aikg.export_op.facts import OpFacts
from aikg.export_op.runtime import OutsideEnvelope, build
from aikg.export_op.writer import op_config, op_names


class Reference(torch.nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.register_buffer("shift", torch.linspace(-1.0, 1.0, features))

    def forward(self, x: torch.Tensor, dim: int, scale: float) -> tuple[torch.Tensor, ...]:
        y = (x + self.shift) * scale
        return torch.softmax(y, dim), y.sum(dim)


class Candidate(Reference):
    def forward(self, x: torch.Tensor, dim: int, scale: float) -> tuple[torch.Tensor, ...]:
        y = torch.add(x, self.shift).mul(scale)
        e = torch.exp(y - y.amax(dim, keepdim=True))
        return e / e.sum(dim, keepdim=True), torch.einsum("ij->i", y)


def _tensor(*shape: int) -> dict:
    return {"kind": "tensor", "dtype": "float32", "shape": list(shape)}


FACTS = OpFacts(
    names=["x", "dim", "scale"],
    parameters=[{"name": "shift", **_tensor(4)}],
    shape_sets=[
        {
            "label": "trials",
            "inputs": [_tensor(3, 4), {"kind": "int", "value": 1}, {"kind": "float", "value": 0.5}],
            "outputs": [_tensor(3, 4), _tensor(3)],
        }
    ],
    output_tuple=True,
    init_inputs=[4],
)


def _op(namespace: str, strict: bool) -> dict:
    config = op_config(FACTS, op_names("soft sum", namespace, ""), strict=strict, device="cpu")
    return build(config, Reference, Candidate)


def test_int_and_float_arguments_a_buffer_and_two_outputs() -> None:
    built = _op("t_runtime", strict=False)
    reference = Reference(4)
    x = torch.randn(3, 4, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = built["function"](x, 1, 0.5)
    for got, expected in zip(outputs, reference(x, 1, 0.5), strict=True):
        torch.testing.assert_close(got, expected)
    torch.library.opcheck(torch.ops.t_runtime.soft_sum.default, (x, 1, 0.5, reference.shift))
    compiled = torch.compile(built["function"], fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x, 1, 0.5)[1], reference(x, 1, 0.5)[1])
    outputs[1].sum().backward()  # only the second output: the first gets no gradient
    x_ref = x.detach().clone().requires_grad_()
    reference(x_ref, 1, 0.5)[1].sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)
    with pytest.warns(RuntimeWarning, match=r"dim=0 was never verified \(verified: \[1\]\)"):
        outputs = built["function"](x, 0, 0.5)
    torch.testing.assert_close(outputs[0], reference(x, 0, 0.5)[0])


def test_strict_raises_naming_the_envelope() -> None:
    built = _op("t_runtime_strict", strict=True)
    with pytest.raises(OutsideEnvelope) as refused:
        built["function"](torch.randn(3, 4), 1, 2.0)
    assert str(refused.value) == (
        "aikg op t_runtime_strict::soft_sum: scale=2.0 was never verified (verified: [0.5]); "
        "the kernel was verified only for x float32 [3x4] contiguous, dim in [1], scale in "
        "[0.5] on cpu: pass such inputs, or export without --strict to fall back to the "
        "reference there"
    )
