"""The task's state graph as data: its states and the transitions between them, with the
names of their guards (machine/conductor.py holds the guards' rules). The runner drives a
`transitions` machine with it; the fold (machine/state.py) moves along the same edges when
it reads the events those transitions record, so a resumed machine starts where the log
left it.
"""

from __future__ import annotations

from typing import Any

STATES: list[dict[str, Any]] = [
    {"name": "created"},
    {"name": "designing"},
    {"name": "coding"},
    {"name": "verifying"},
    {"name": "deciding"},
    {"name": "finished", "final": True},
]

# Guards: `has_steps_left` holds limit_steps; `is_verified` holds "a kernel verified".
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "start", "source": "created", "dest": "designing"},
    {"trigger": "designed", "source": "designing", "dest": "coding"},
    {"trigger": "coded", "source": "coding", "dest": "verifying"},
    {"trigger": "code_missing", "source": "coding", "dest": "deciding"},
    {"trigger": "design_missing", "source": "designing", "dest": "deciding"},
    {"trigger": "checked", "source": "verifying", "dest": "deciding"},
    {"trigger": "fix_code", "source": "deciding", "dest": "coding", "conditions": "has_steps_left"},
    {"trigger": "optimize", "source": "deciding", "dest": "coding", "conditions": "has_steps_left"},
    {
        "trigger": "fix_design",
        "source": "deciding",
        "dest": "designing",
        "conditions": "has_steps_left",
    },
    {"trigger": "finish", "source": "deciding", "dest": "finished", "conditions": "is_verified"},
    {
        "trigger": "stop",
        "source": ["created", "designing", "coding", "deciding"],
        "dest": "finished",
    },
]


INITIAL = STATES[0]["name"]


def after(trigger: str) -> str:
    """The state a trigger leads to (every trigger has one destination)."""
    return next(t["dest"] for t in TRANSITIONS if t["trigger"] == trigger)
