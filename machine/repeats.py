"""Which earlier step already verified the same candidate, so it is not verified twice.

Two candidates are the same when their Python tokens are: comments, blank lines, line
continuations and the width of indentation are ignored; everything else (names, literals,
docstrings, launch configurations) counts. Source that does not tokenize is compared
exactly.
"""

from __future__ import annotations

import io
import tokenize

from machine.state import TaskState

# Tokens that never change what a module does.
_IGNORED = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER})
# Tokens whose text is layout only: their kind is kept, their text is not.
_LAYOUT = frozenset({tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE})


def normalised(source: str) -> str:
    """`source` as its significant tokens, one per line (the form repeats are compared in)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    return "\n".join(
        tokenize.tok_name[t.type] if t.type in _LAYOUT else t.string
        for t in tokens
        if t.type not in _IGNORED
    )


def repeated_step(state: TaskState, step: int | None = None) -> int | None:
    """The other step whose verified candidate is the same as step `step`'s (default: the
    last attempt's), if any."""
    mine_attempt = state.last_attempt
    if step is not None:
        mine_attempt = next((a for a in state.attempts if a.step == step), None)
    if mine_attempt is None or mine_attempt.code is None:
        return None
    mine = normalised(mine_attempt.code)
    for attempt in state.attempts:
        known = attempt.code is not None and attempt.result is not None
        if attempt is not mine_attempt and known and normalised(attempt.code or "") == mine:
            return attempt.repeat_of or attempt.step
    return None
