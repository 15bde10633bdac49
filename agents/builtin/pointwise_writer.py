"""The pointwise kernel, shaped like the Triton vector-add tutorial: one program per
BLOCK_SIZE output elements, each loaded, computed and stored once."""

from __future__ import annotations

from agents.builtin.kernel_writer import KernelWriter


class PointwiseWriter(KernelWriter):
    def _write_body(self) -> None:
        self.body += [
            "pid = tl.program_id(axis=0)",
            "offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)",
            "mask = offsets < n_elements",
        ]
        if not self.plan.flat:
            self._decompose("offsets", list(range(self.plan.rank)), self.body)
        for out in self.plan.outputs:
            value = self.emit(out.value, self.row)
            self.body.append(self._store(out, value, "mask"))

    def _extent_params(self) -> list[tuple[str, str]]:
        return [("n_elements", "n_elements")]
