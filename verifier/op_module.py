"""Exported op modules (`aikg export --as op`, docs/export.md) as verifier candidates.

An op module carries the verified candidate verbatim between two marker lines; the
verifier checks that kernel again, so an exported op can be re-checked on another machine
or a new driver. The markers are defined here, the one place both sides read them.
"""

from __future__ import annotations

import hashlib
import re

OP_MODULE_MARK = "# aikg op module"
CANDIDATE_BEGIN = "# ---- aikg: the verified candidate, verbatim (aikg verify checks it) ----"
CANDIDATE_END = "# ---- aikg: end of the verified candidate ----"
FUTURE_PREFIX = "from __future__ import"
REFERENCE_DIGEST = "reference sha256"  # the header line naming the reference it came from


def is_op_module(source: str) -> bool:
    return source.startswith(OP_MODULE_MARK)


def embedded_candidate(source: str) -> str:
    """The candidate an op module carries, with the `__future__` imports it hoisted.

    Raises ValueError naming what is missing when the markers are not there."""
    head, begin, rest = source.partition(f"\n{CANDIDATE_BEGIN}\n")
    body, end, _ = rest.partition(f"\n{CANDIDATE_END}\n")
    if not begin or not end:
        raise ValueError(
            "an aikg op module without its candidate markers (edited by hand?): "
            "export it again with `aikg export TASK_ID --as op`"
        )
    futures = [line for line in head.splitlines() if line.startswith(FUTURE_PREFIX)]
    return "\n".join([*futures, body, ""])


def other_reference(source: str, reference: str) -> str | None:
    """The sha256 an op module's header names when it is not `reference`'s; else None."""
    found = re.search(rf"^# {REFERENCE_DIGEST}:\s+([0-9a-f]{{64}})$", source, re.MULTILINE)
    if found is None or found.group(1) == hashlib.sha256(reference.encode()).hexdigest():
        return None
    return found.group(1)
