"""Losses and scans in the forms KernelBench level 1 writes them (tasks 92, 93, 99, 100 and
a cosine-similarity loss), at small sizes through the interpreter, against the reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import check, task

# the interpreter evaluates masked-off lanes too (log(0) and the like)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

PAIR = "torch.randn(6, 40), torch.randn(6, 40)"
CASES = {
    "hinge": dict(
        expr="torch.mean(torch.clamp(1 - x * y, min=0))",
        inputs="torch.randn(6, 40), torch.randint(0, 2, (6, 1)).float() * 2 - 1",
        args="x, y",
    ),
    "triplet_margin": dict(
        expr="self.loss(a, p, n)",
        init="margin",
        body="self.loss = torch.nn.TripletMarginLoss(margin=margin)",
        init_values="1.0",
        inputs="torch.randn(6, 40), torch.randn(6, 40), torch.randn(6, 40)",
        args="a, p, n",
    ),
    "cosine_similarity_loss": dict(
        expr="torch.mean(1 - F.cosine_similarity(x, y, dim=1))", inputs=PAIR, args="x, y"
    ),
    "masked_cumsum": dict(
        expr="torch.cumsum(x * mask, dim=1)",
        inputs="torch.randn(4, 50), torch.randint(0, 2, (4, 50)).bool()",
        args="x, mask",
    ),
    "exclusive_cumsum_narrow_and_cat": dict(
        expr="torch.cat((torch.zeros_like(x.select(1, 0).unsqueeze(1)), "
        "torch.cumsum(x.narrow(dim=1, start=0, length=x.size(1) - 1), dim=1)), dim=1)",
        inputs="torch.randn(4, 50)",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_kernelbench_forms_match_reference(name: str, tmp_path: Path) -> None:
    check(task(**CASES[name]), tmp_path, name)
