"""Token and cost budgets: a call that would start past a budget is not started.

A `Ledger` is one scope's limit and what it has spent (a task's, or a batch's shared by its
tasks); the machine starts each ledger from the usage already in the event log, so a
budget survives a resume. `BudgetedChat` checks every ledger before a call and charges the
reply's usage after. A call starts only if its most it can take — the prompt (estimated at
four characters a token) plus the longest reply its request allows (`max_tokens` or
`max_completion_tokens`) — fits in what is left, so a budget is never passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.llm.client import ChatBackend, Message, Reply, estimate_tokens
from agents.llm.settings import RoleSettings
from agents.types import AgentError


class BudgetExhausted(AgentError):
    """A call was not started: it would take a scope past its token or cost budget."""

    reason = "budget_exhausted"


class Ledger:
    """One scope's limits, its spending, and what the calls in flight may still take.

    A call holds its most (`hold`) before it starts and swaps the hold for what it really
    took when it ends (`settle`), so calls made side by side (a search's nodes, a batch's
    tasks) cannot pass the budget together."""

    def __init__(
        self,
        scope: str,
        max_tokens: int | None,
        max_usd: float | None,
        spent_tokens: int = 0,
        spent_usd: float = 0.0,
    ) -> None:
        self.scope = scope  # "task" or "batch": named in the refusal
        self.max_tokens = max_tokens
        self.max_usd = max_usd
        self.spent_tokens = spent_tokens
        self.spent_usd = spent_usd
        self.held_tokens = 0
        self.held_usd = 0.0

    @property
    def limited(self) -> bool:
        return self.max_tokens is not None or self.max_usd is not None

    def hold(self, role: str, most_tokens: int, most_usd: float) -> None:
        """Hold a call's most, or raise `BudgetExhausted` if it could pass a limit."""
        tokens = (self.spent_tokens, self.held_tokens, most_tokens)
        _refuse_past(role, self.scope, _TOKENS, self.max_tokens, tokens)
        _refuse_past(
            role, self.scope, _COST, self.max_usd, (self.spent_usd, self.held_usd, most_usd)
        )
        self.held_tokens += most_tokens
        self.held_usd += most_usd

    def settle(self, held: tuple[int, float], took: tuple[int, float]) -> None:
        """A call that held `held` (tokens, USD) ended having taken `took`."""
        self.held_tokens -= held[0]
        self.held_usd -= held[1]
        self.spent_tokens += took[0]
        self.spent_usd += took[1]


@dataclass(frozen=True)
class _Measure:
    """How a limit is named and shown in a refusal."""

    kind: str  # "token" | "cost"
    key: str  # its agents.budget key (batch_ in front for a batch)
    form: str  # how an amount is written
    unit: str = ""


_TOKENS = _Measure("token", "max_tokens", "{:,}", " tokens")
_COST = _Measure("cost", "max_usd", "${:.4f}")


def _refuse_past(
    role: str, scope: str, measure: _Measure, limit: float | None, amounts: tuple[float, ...]
) -> None:
    """Raise `BudgetExhausted` if spent + held by calls in flight + this call's most > limit."""
    spent, held, most = amounts
    if limit is None or spent + held + most <= limit:
        return
    show = measure.form.format
    in_flight = f", {show(held)} held by calls in flight" if held else ""
    key = f"agents.budget.{'batch_' if scope == 'batch' else ''}{measure.key}"
    flag = " or --budget-usd" if measure is _COST else ""
    raise BudgetExhausted(
        f"the {role} call was not started: the {scope}'s LLM {measure.kind} budget is spent "
        f"({show(spent)} of {show(limit)}{measure.unit} used{in_flight}, the call may take up "
        f"to {show(most)}); raise {key}{flag}"
    )


class BudgetedChat:
    """A `ChatBackend` that starts a call only within every ledger's budget."""

    def __init__(self, inner: ChatBackend, settings: RoleSettings, ledgers: Sequence[Ledger]):
        self.inner = inner
        self.settings = settings
        self.ledgers = tuple(ledgers)

    async def complete(self, role: str, messages: list[Message]) -> Reply:
        prompt_tokens = sum(estimate_tokens(m.get("content", "")) for m in messages)
        reply_tokens = self.settings.request.output_limit() or 0
        held = (prompt_tokens + reply_tokens, self.settings.cost_usd(prompt_tokens, reply_tokens))
        holding: list[Ledger] = []
        try:
            for ledger in self.ledgers:
                ledger.hold(role, *held)
                holding.append(ledger)
        except BudgetExhausted:
            for ledger in holding:
                ledger.settle(held, (0, 0.0))
            raise
        took = (0, 0.0)  # a call that fails records no usage, so it counts as nothing
        try:
            reply = await self.inner.complete(role, messages)
            took = (int(reply.usage.get("total_tokens") or 0), reply.cost_usd)
            return reply
        finally:
            for ledger in holding:
                ledger.settle(held, took)
