"""A traced size as host source: a literal, an input's `x.shape[d]`, or an expression of
them (`s1*s2` of a flatten, `s0//2` of a split), for the host wrapper's sizes and grids.
"""

from __future__ import annotations

import re
from typing import Any

from agents.builtin.errors import LLM_HINT
from agents.builtin.reference import Traced
from agents.builtin.values import DerivedSize
from agents.types import Unsupported


def host_size(traced: Traced, size: Any) -> str:
    """The size as host source; Unsupported when the inputs' shapes cannot express it."""
    if isinstance(size, int):
        return str(size)
    if isinstance(size, DerivedSize):
        return size.host
    host = traced.symbols.get(str(size)) or size_expression(traced, size)
    if host is None:
        raise Unsupported(
            ["<shape>"], f"cannot express size {size} from the inputs' shapes; " + LLM_HINT
        )
    return host


def size_expression(traced: Traced, size: Any) -> str | None:
    """A size computed from input sizes (a flatten's `s1*s2`, a split's `s0//2`) as a
    host expression; None if a symbol in it comes from no input."""
    words = {**traced.symbols, "Min": "min", "Max": "max"}  # diagonals' lengths
    names = re.findall(r"[A-Za-z_]\w*", str(size))
    if not set(names) & traced.symbols.keys() or any(n not in words for n in names):
        return None
    host = re.sub(r"[A-Za-z_]\w*", lambda m: words[m.group(0)], str(size))
    # a sum or quotient stays one factor where products of sizes are written out
    return f"({host})" if re.search(r"[-+/%]", host) else host
