"""The share of a suite's reference graphs the agent can lower, and what stops the rest.

A task is *lowered* when the agent wrote a candidate for it (it verified or failed
verification); *unsupported* when the agent refused it. A refusal names the aten ops it
cannot lower (`aten.sort`), a tag in angle brackets (`<constant: ...>`), or else a reason
in its first clause (`forward returns a non-tensor`); the report counts tasks per op, so
progress on any suite shows which op to lower next.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

# `aten.view`, and a builtin refusal's reason tag such as `<trace>` or `<constant: ...>`
_OP = re.compile(r"aten\.[A-Za-z_][\w.]*\w|<([a-z]\w*)[^<>]*>")
REASON_WIDTH = 60


class _Row(Protocol):
    status: str
    message: str


@dataclass(frozen=True)
class LoweringShare:
    tasks: int = 0
    lowered: int = 0
    verified: int = 0
    unsupported: int = 0
    unsupported_ops: dict[str, int] = field(default_factory=dict)  # op -> tasks, most first

    def line(self) -> str:
        """One markdown line: lowered, verified and unsupported with their ops."""
        share = f"{100 * self.lowered / self.tasks:.1f}%" if self.tasks else "—"
        text = (
            f"- Lowered: {self.lowered}/{self.tasks} ({share}); verified {self.verified}; "
            f"unsupported {self.unsupported}"
        )
        if self.unsupported_ops:
            ops = ", ".join(f"`{op}` ({n})" for op, n in self.unsupported_ops.items())
            text += f": {ops}"
        return text


def refused_ops(message: str) -> list[str]:
    """The ops (or reason tags) a refusal names; else its reason, the message's first
    clause (`torch cannot trace this forward`)."""
    tags = (f"<{m.group(1)}>" if m.group(1) else m.group(0) for m in _OP.finditer(message))
    found = list(dict.fromkeys(tags))
    reason = re.split(r"[;(:]", message, maxsplit=1)[0].strip()[:REASON_WIDTH]
    return found or [reason or "<no reason given>"]


def lowering_share(rows: Sequence[_Row]) -> LoweringShare:
    counts: Counter[str] = Counter()
    for row in rows:
        if row.status == "unsupported":
            counts.update(refused_ops(row.message))
    return LoweringShare(
        tasks=len(rows),
        lowered=sum(r.status in ("verified", "failed") for r in rows),
        verified=sum(r.status == "verified" for r in rows),
        unsupported=sum(r.status == "unsupported" for r in rows),
        unsupported_ops=dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
    )
