"""A stage's 0-dim result (a full reduction) read back by a later stage's kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.builtin.builtin_harness import check, task

# the interpreter evaluates masked-off lanes too
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

INPUTS = "torch.randn(4, 9), torch.randn(3, 5)"
CASES = {
    # the pointwise stage reads the mean's 0-dim buffer through a scalar pointer
    "pointwise_plus_mean": "x * 2 + y.mean()",
    # the row reduction's stage reads the sum's 0-dim buffer outside its row loop
    "row_max_times_sum": "x.amax(1) * y.sum()",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_later_stage_reads_scalar_buffer(name: str, tmp_path: Path) -> None:
    code = check(task(expr=CASES[name], inputs=INPUTS, args="x, y"), tmp_path, name)
    assert "# stage 2" in code  # the 0-dim value really crosses a stage boundary
