"""The reduction kernels: each program takes BLOCK_M rows (points of the kept dims) as a
[BLOCK_M, BLOCK_R] block, runs one pass per dependent reduction, then stores.

Four modes share the body. The persistent kernel holds whole rows in registers, so every
pass reuses what was loaded once; the looped kernel walks R in BLOCK_R steps, one loop per
pass plus a last loop that stores full-size outputs; the partial and combine kernels cut R
into chunks reduced by separate programs, then merge them. In the looped and split kernels
a paired statistic (Welford, online softmax) is gathered in one pass.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.builtin.accumulators import (
    accumulated,
    accumulator_finish,
    accumulator_init,
    accumulator_step,
    describe,
    merged_from_parts,
)
from agents.builtin.kernel_writer import INDENT, KernelWriter, Scope
from agents.builtin.reduction_schedule import Item, members, pass_items, tiled
from agents.builtin.values import FULL, ROW, Output, Plan


class ReductionWriter(KernelWriter):
    single_scope = False  # row values ([BLOCK_M, 1]) apart from the lanes' blocks

    def __init__(
        self,
        plan: Plan,
        kernel_name: str,
        constexprs: list[str],
        interpreter: bool = False,
        mode: str = "looped",
    ) -> None:
        super().__init__(plan, kernel_name, constexprs, interpreter)
        # persistent (whole rows in one block, loaded once), looped (walk R in BLOCK_R
        # steps), partial (one CHUNK of R per program) or combine (merge the partials, then
        # store the chunk's full-size outputs)
        self.mode = mode
        self.lanes = Scope(lines=self.body)  # persistent mode: one scope for every pass

    def _write_body(self) -> None:
        plan = self.plan
        kept = [d for d in range(plan.rank) if d not in plan.reduced]
        fulls = [o for o in plan.outputs if o.value.level == FULL]
        self.body += [
            "rows = tl.program_id(axis=0) * BLOCK_M + tl.arange(0, BLOCK_M)[:, None]",
            "row_mask = rows < n_rows",
        ]
        self._decompose("rows", kept, self.body)
        if self.mode == "partial" or (self.mode == "combine" and fulls):
            self.body.append("split = tl.program_id(axis=1)")
        if self.mode == "combine":
            self._combine()
            passes = 1
        else:
            passes = self._reduction_passes()
        if self.mode == "partial":
            self.body += [
                f"tl.store(part_{r.name}_ptr + split * n_rows + rows, {r.name}, mask=row_mask)"
                for r in plan.reductions
            ]
            return
        self._store_outputs(fulls, passes)

    def _store_outputs(self, fulls: list[Output], passes: int) -> None:
        """Store the row outputs, then walk the rows once more for the full-size ones."""
        # with full-size outputs the combine kernel runs per chunk: its first chunk stores rows
        combine_chunks = self.mode == "combine" and fulls
        row_mask = "row_mask & (split == 0)" if combine_chunks else "row_mask"
        for out in self.plan.outputs:
            if out.value.level == ROW:
                self.body.append(self._store(out, self.emit(out.value, self.row), row_mask))
        if fulls:

            def store(loop: Scope) -> None:
                for out in fulls:
                    loop.lines.append(self._store(out, self.emit(out.value, loop), "rmask"))

            what = "this chunk" if self.mode == "combine" else "the rows"
            self._loop(f"pass {passes + 1}: normalise and store {what}", store)

    def _loop(self, comment: str, fill: Callable[[Scope], None]) -> None:
        """A walk over the reduced dims; fill(scope) emits its body into scope.lines.

        The persistent kernel holds whole rows, so a walk is one step over registers; the
        others loop over R (the partial and combine kernels: over their chunk) in BLOCK_R
        steps. r is a [1, BLOCK_R] row of positions, rmask covers [BLOCK_M, BLOCK_R].
        """
        reduced = list(self.plan.reduced)
        if self.mode == "persistent":
            if "r" not in self.lanes.done:
                self.lanes.done.add("r")
                self.body += ["r = tl.arange(0, BLOCK_R)[None, :]", "rmask = row_mask & (r < R)"]
                self._decompose("r", reduced, self.body)
            self.body.append(f"# {comment.replace('pass', 'step', 1)} (rows held in registers)")
            fill(self.lanes)
            return
        loop = Scope()
        loop.lines += ["r = r0 + tl.arange(0, BLOCK_R)[None, :]", "rmask = row_mask & (r < R)"]
        self._decompose("r", reduced, loop.lines)
        fill(loop)
        self.body.append(f"# {comment}")
        if self.mode in ("partial", "combine"):
            self.body.append("for r0 in range(split * CHUNK, split * CHUNK + CHUNK, BLOCK_R):")
        else:
            self.body.append("for r0 in range(0, R, BLOCK_R):")
        self.body.extend(INDENT + line for line in loop.lines)

    def _combine(self) -> None:
        """Each reduction of the BLOCK_M rows merged from the SPLIT partial results."""
        self.body += ["s = tl.arange(0, BLOCK_S)[None, :]", "smask = row_mask & (s < SPLIT)"]
        (group,) = pass_items(self.plan.reductions, fused=True)
        for item in group:
            self.body += merged_from_parts(item)
            self.row.done.update(r.name for r in members(item))

    def _reduction_passes(self) -> int:
        """The loops (or register steps) that compute the reductions; returns their count.

        The persistent kernel reduces registers, so it keeps statistics as two steps; the
        others gather each statistic in one pass over memory."""
        groups = pass_items(self.plan.reductions, fused=self.mode != "persistent")
        for number, group in enumerate(groups, 1):
            names = ", ".join(describe(item) for item in group)

            def fill(loop: Scope, group: list[Item] = group) -> None:
                for item in group:
                    x = self.emit(accumulated(item), loop)
                    loop.lines += accumulator_step(item, x)

            # initialise accumulators first, then emit the loop (row values land above it)
            inits = [line for item in group for line in accumulator_init(item)]
            mark = len(self.body)
            self._loop(f"pass {number}: {names}", fill)
            self.body[mark:mark] = inits
            for item in group:
                self.body.extend(accumulator_finish(item))
                self.row.done.update(r.name for r in members(item))
        return len(groups)

    # ---- signature -----------------------------------------------------------------
    def _extent_params(self) -> list[tuple[str, str]]:
        plan = self.plan
        out: list[tuple[str, str]] = []
        if not any(name == "R" for name, _ in plan.scalars):
            out.append(("R", "R"))
        out.append(("n_rows", "n_rows"))
        if self.mode in ("partial", "combine"):
            out += [(f"part_{r.name}_ptr", f"part_{r.name}") for r in plan.reductions]
            out += [("SPLIT", "split"), ("CHUNK", "chunk")]
        return out

    def _constant_sizes(self) -> set[str]:
        """Sizes the kernel divides a linear index by (r into the reduced dims; for tiled
        plans also rows into the kept dims): compile-time constants, so // and % compile to
        shifts and multiplies and the loads' contiguity is known."""
        plan = self.plan
        kept = [d for d in range(plan.rank) if d not in plan.reduced]
        divisors = list(plan.reduced[1:]) + (kept[1:] if tiled(plan) else [])
        return {f"n{d}" for d in divisors}
