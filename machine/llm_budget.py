"""The LLM budgets of a run, started from the spending already in the event log.

A task's ledger starts at the tokens and cost its own stream has recorded (`llm.responded`),
so a resumed task goes on counting where it stopped; a batch's ledger starts at the sum
over the batch's tasks and is shared by all of them while they run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agents.llm.budget import Ledger
from agents.llm.settings import BudgetSettings
from machine.launch import TaskLaunch
from machine.recorder import load_state
from machine.state import TaskState
from store import EventStore


def task_ledger(budget: BudgetSettings, state: TaskState) -> Ledger | None:
    """The task's own budget, with what its log says it spent; None when unlimited."""
    ledger = Ledger("task", budget.max_tokens, budget.max_usd, state.tokens, state.cost_usd)
    return ledger if ledger.limited else None


async def share_batch_budget(
    budget: BudgetSettings, db: Path, launches: Sequence[TaskLaunch], busy_timeout_s: float
) -> None:
    """Give every launch of a batch the batch's ledger, started from what the logs of all of
    them (finished ones included) say they spent; nothing when the batch is unlimited."""
    if budget.batch_max_tokens is None and budget.batch_max_usd is None:
        return
    async with await EventStore.open(db, busy_timeout_s=busy_timeout_s) as store:
        states = [await load_state(store, launch.spec.task_id) for launch in launches]
    ledger = Ledger(
        "batch",
        budget.batch_max_tokens,
        budget.batch_max_usd,
        sum(s.tokens for s in states),
        sum(s.cost_usd for s in states),
    )
    for launch in launches:
        launch.ledgers = (*launch.ledgers, ledger)
