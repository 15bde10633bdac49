"""The verified envelope: built from the shape sets the verifier tested, and checked;
and what the export probe refuses."""

from __future__ import annotations

import pytest
import torch

from aikg.commands import UsageError
from aikg.export_op.envelope import envelope_of
from aikg.export_op.facts import OpFacts, probe_task
from aikg.export_op.runtime import describe_envelope, outside_envelope
from tests.export.conftest import TASK


def _facts(*shape_sets: list[dict]) -> OpFacts:
    return OpFacts(
        names=["x", "dim"],
        parameters=[{"name": "w", "kind": "tensor", "dtype": "float16", "shape": [4]}],
        shape_sets=[
            {"label": f"set {n}", "inputs": s, "outputs": []} for n, s in enumerate(shape_sets)
        ],
        output_tuple=False,
        init_inputs=[],
    )


def _x(dtype: str, *shape: int) -> dict:
    return {"kind": "tensor", "dtype": dtype, "shape": list(shape)}


def test_sizes_tested_at_several_shapes_become_ranges() -> None:
    facts = _facts(
        [_x("float32", 8, 64), {"kind": "int", "value": 1}],
        [_x("float32", 2, 64), {"kind": "int", "value": 1}],
        [_x("float32", 2, 3, 64), {"kind": "int", "value": 1}],  # another rank: left out
    )
    envelope = envelope_of(facts, "cuda")
    assert envelope["inputs"] == [
        {"dtypes": ["float32"], "dims": [[2, 8], [64, 64]]},
        {"values": [1]},
    ]
    assert envelope["parameters"] == {"w": {"dtypes": ["float16"], "dims": [[4, 4]]}}
    assert describe_envelope(envelope) == "x float32 [2..8x64] contiguous, dim in [1] on cuda"


def test_each_way_out_of_the_envelope_is_named() -> None:
    envelope = envelope_of(_facts([_x("float32", 8, 64), {"kind": "int", "value": 1}]), "cpu")
    w = {"w": torch.zeros(4, dtype=torch.float16)}
    x = torch.zeros(8, 64)
    cases = {
        "x has dtype float64, verified float32": ([x.double(), 1], w),
        "x has rank 1, verified rank 2": ([x.flatten(), 1], w),
        "x has size 7 on dim 0, verified 8": ([x[:7], 1], w),
        "x is not contiguous (a strided view), verified contiguous": (
            [torch.zeros(64, 8).t(), 1],
            w,
        ),
        "dim=2 was never verified (verified: [1])": ([x, 2], w),
        "parameter w has dtype float32, verified float16": ([x, 1], {"w": torch.zeros(4)}),
    }
    for reason, (inputs, parameters) in cases.items():
        assert outside_envelope(envelope, inputs, parameters) == reason
    assert outside_envelope(envelope, [x, 1], w) is None


def test_a_candidate_naming_its_weights_otherwise_cannot_be_an_op() -> None:
    candidate = (
        "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
        "    def __init__(self, features):\n        super().__init__()\n"
        "        self.w = torch.nn.Parameter(torch.randn(features))\n\n"
        "    def forward(self, x):\n        return x\n"
    )
    with pytest.raises(UsageError) as refused:
        probe_task("t", TASK, candidate, small=True)
    assert str(refused.value) == (
        "task 't' cannot be exported as an op: ModelNew holds 'w' [32] that the reference "
        "does not: an op passes the reference's parameters to the kernel by name, so the "
        "candidate must name its parameters as the reference does"
    )
