"""Token and cost budgets: a call that would start past a budget never reaches the server."""

from __future__ import annotations

import asyncio

import pytest

from agents.llm.budget import BudgetedChat, BudgetExhausted, Ledger
from agents.llm.client import OpenAIChat
from agents.llm.settings import RoleSettings
from tests.support.openai_server import ScriptedOpenAIServer, Step

MESSAGES = [{"role": "user", "content": "x" * 400}]  # about 100 prompt tokens


def priced(server: ScriptedOpenAIServer) -> RoleSettings:
    return RoleSettings(
        provider="openai",
        model="scripted",
        base_url=server.base_url,
        price_input_per_mtok=1000.0,  # $0.001 a token: the numbers stay readable
        price_output_per_mtok=2000.0,
        request={"max_tokens": 100},  # a call may cost up to $0.1 + $0.2
    )


async def test_cost_budget_stops_the_call_that_would_pass_it(sink) -> None:
    task = Ledger("task", None, 0.6)
    batch = Ledger("batch", None, 10.0, spent_usd=1.0)
    replies = [Step.reply("one", usage=(100, 50)), Step.reply("two", usage=(100, 50))]
    with ScriptedOpenAIServer(replies) as server:
        chat = BudgetedChat(OpenAIChat(priced(server), sink), priced(server), [task, batch])
        await chat.complete("coder", MESSAGES)  # $0.1 in + $0.1 out
        await chat.complete("designer", MESSAGES)
        assert task.spent_usd == pytest.approx(0.4) and task.spent_tokens == 300
        assert batch.spent_usd == pytest.approx(1.4)
        with pytest.raises(BudgetExhausted) as info:  # $0.4 spent + up to $0.3 > $0.6
            await chat.complete("coder", MESSAGES)
        assert len(server.requests) == 2
    message = str(info.value)
    assert message.startswith("the coder call was not started: the task's LLM cost budget")
    assert "$0.4000 of $0.6000 used, the call may take up to $0.3000" in message
    assert "agents.budget.max_usd or --budget-usd" in message
    assert [kind for kind, _ in sink.events if kind != "partial"] == ["requested", "responded"] * 2


async def test_token_budget_of_a_batch_counts_what_its_log_recorded(sink) -> None:
    batch = Ledger("batch", 1000, None, spent_tokens=850)  # + 100 prompt + 100 reply > 1000
    with ScriptedOpenAIServer([Step.reply("never sent")]) as server:
        chat = BudgetedChat(OpenAIChat(priced(server), sink), priced(server), [batch])
        with pytest.raises(BudgetExhausted, match=r"batch's LLM token budget is spent \(850 of"):
            await chat.complete("coder", MESSAGES)
        assert server.requests == [] and sink.events == []


async def test_calls_side_by_side_cannot_pass_the_budget_together(sink) -> None:
    task = Ledger("task", None, 0.5)  # room for one call at its most ($0.3), not two
    with ScriptedOpenAIServer([Step.reply("one", usage=(100, 50))]) as server:
        chat = BudgetedChat(OpenAIChat(priced(server), sink), priced(server), [task])
        first, second = await asyncio.gather(
            chat.complete("coder", MESSAGES),
            chat.complete("coder", MESSAGES),
            return_exceptions=True,
        )
        assert len(server.requests) == 1
    assert getattr(first, "text", None) == "one"
    assert isinstance(second, BudgetExhausted)
    assert "$0.3000 held by calls in flight" in str(second)
    assert (task.held_tokens, task.held_usd) == (0, 0.0)
    assert task.spent_usd == pytest.approx(0.2)
