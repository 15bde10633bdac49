"""The verified envelope: which inputs the kernel of an op may see (docs/export.md).

Built from the shape sets the verifier tested: each tensor argument keeps its dtypes and
rank, and each dimension the range of sizes tested on it (one size when every set had the
same); parameters keep their shape exactly; non-tensor arguments keep the values tested.
`runtime.outside_envelope` checks inputs against it.
"""

from __future__ import annotations

from typing import Any

from aikg.export_op.facts import OpFacts


def envelope_of(facts: OpFacts, device: str) -> dict[str, Any]:
    columns = zip(*(s["inputs"] for s in facts.shape_sets), strict=True)
    return {
        "device": device,
        "names": facts.names,
        "inputs": [_rule(list(column)) for column in columns],
        "parameters": {
            p["name"]: {"dtypes": [p["dtype"]], "dims": [[size, size] for size in p["shape"]]}
            for p in facts.parameters
        },
    }


def _rule(seen: list[dict[str, Any]]) -> dict[str, Any]:
    if seen[0]["kind"] != "tensor":
        return {"values": sorted({value["value"] for value in seen}, key=repr)}
    ranks = {len(value["shape"]) for value in seen}
    if len(ranks) > 1:  # tested at several ranks: the envelope keeps the trials' one
        seen = [value for value in seen if len(value["shape"]) == len(seen[0]["shape"])]
    dims = zip(*(value["shape"] for value in seen), strict=True)
    return {
        "dtypes": sorted({value["dtype"] for value in seen}),
        "dims": [[min(sizes), max(sizes)] for sizes in dims],
    }
