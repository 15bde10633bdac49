"""The knowledge the prompts draw on: skills chosen by the reference's operations, and
verified kernels of similar operators read from a real event log, reaching the request body."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agents.llm.client import OpenAIChat
from agents.llm.knowledge import Knowledge, load_skills, op_tokens, similarity
from agents.llm.prompts import PromptLibrary
from agents.llm.provider import LLMProvider
from agents.llm.settings import KnowledgeSettings, RoleSettings
from agents.types import AgentRequest, Target
from machine import events as ev
from machine.knowledge_source import knowledge_for
from store import EventStore, NewEvent
from tests.store.scripts.task_starter import created
from tests.support.openai_server import ScriptedOpenAIServer, Step

SOFTMAX = """import torch
class Model(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
"""
LOG_SOFTMAX = """import torch
class Model(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1).log()
"""
LINEAR_RELU = """import torch
class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(64, 64)
    def forward(self, x):
        return torch.relu(self.fc(x) + 1.0)
"""
SOFTMAX_KERNEL = "SOFTMAX_KERNEL = 'verified softmax kernel'"
LINEAR_KERNEL = "LINEAR_KERNEL = 'verified linear kernel'"


def request(reference: str, task_type: str = "precision_only") -> AgentRequest:
    return AgentRequest("op", reference, "torch", Target("cuda", "h100"), task_type, step=1)


def test_operations_and_their_similarity() -> None:
    assert op_tokens(LINEAR_RELU) == {"linear": 1, "relu": 1, "add": 1}
    assert op_tokens(SOFTMAX) == {"softmax": 1}
    assert similarity(op_tokens(SOFTMAX), op_tokens(LOG_SOFTMAX)) == 0.5
    assert similarity(op_tokens(SOFTMAX), op_tokens(LINEAR_RELU)) == 0.0
    assert op_tokens("def forward(:") == {}


def test_skills_load_as_package_data_and_match_the_reference() -> None:
    knowledge = Knowledge(load_skills())
    assert {s.name for s in knowledge.skills} >= {
        "matmul_tiling",
        "split_row_reduction",
        "online_softmax",
        "coalescing",
        "autotune",
        "fp32_accuracy",
    }
    titles = [s.name for s in knowledge.context(request(SOFTMAX))["skills"]]
    assert titles == ["online_softmax", "fp32_accuracy"]
    linear = [s.name for s in knowledge.context(request(LINEAR_RELU, "profile"))["skills"]]
    assert linear == ["matmul_tiling", "coalescing"]


async def append(store: EventStore, task_id: str, *events: ev.Event) -> None:
    batch = [NewEvent(e.TYPE, e.to_payload(), e.VERSION) for e in events]
    await store.append(task_id, batch, expected_seq=await store.last_seq(task_id))


async def finished_task(store: EventStore, task_id: str, reference: str, code: str) -> None:
    result = {"passed": True, "message": "ok", "timings": {"speedup_vs_compile": 1.31}}
    await append(
        store,
        task_id,
        replace(created(task_id), op_name=task_id, task_desc=reference),
        ev.CodeProduced(1, code, "openai:m"),
        ev.VerifyFinished(1, "cpu", result),
        ev.TaskFinished(True, "verified", "step 1 verified", 1, 1),
    )


async def test_similar_verified_kernels_from_the_log_reach_the_prompt(tmp_path: Path, sink) -> None:
    store = await EventStore.open(tmp_path / "events.db")
    try:
        await finished_task(store, "softmax-a", SOFTMAX, SOFTMAX_KERNEL)
        await finished_task(store, "linear-b", LINEAR_RELU, LINEAR_KERNEL)
        await finished_task(store, "softmax-again", SOFTMAX, SOFTMAX_KERNEL)  # the same kernel
        await append(store, "failed-c", replace(created("failed-c"), task_desc=SOFTMAX))
        await append(store, "current", replace(created("current"), task_desc=LOG_SOFTMAX))
        knowledge = await knowledge_for(store, KnowledgeSettings(), "current", None)
        # while "current" runs (or before it resumes) another task finishes: not shown to it
        await finished_task(store, "later-d", LOG_SOFTMAX, "LATER = 'made after current'")
        resumed = await knowledge_for(store, KnowledgeSettings(), "current", None)
    finally:
        await store.close()
    verified_before = ["softmax-a", "linear-b", "softmax-again"]
    assert [k.task_id for k in knowledge.kernels] == verified_before
    assert [k.task_id for k in resumed.kernels] == verified_before

    with ScriptedOpenAIServer([Step.reply("```python\nclass ModelNew: ...\n```")]) as server:
        settings = RoleSettings(provider="openai", model="scripted", base_url=server.base_url)
        chat = OpenAIChat(settings, sink)
        await LLMProvider(chat, PromptLibrary(), "openai:scripted", knowledge).code(
            request(LOG_SOFTMAX)
        )
        user = server.requests[0].body["messages"][-1]["content"]
    assert "`softmax-a` (task softmax-a, similarity 0.50): verified, 1.31x vs torch.compile" in user
    assert user.count(SOFTMAX_KERNEL) == 1 and SOFTMAX in user  # one kernel shown once
    assert LINEAR_KERNEL not in user and "LATER" not in user
    assert "Online softmax and its relatives" in user


def test_a_skills_folder_of_ones_own_adds_and_replaces(tmp_path: Path) -> None:
    (tmp_path / "online_softmax.md").write_text(
        "---\ntitle: Our softmax\npriority: 5\ntags: [softmax]\n---\nOUR-SOFTMAX-NOTE\n"
    )
    skills = {s.name: s for s in load_skills(tmp_path)}
    assert skills["online_softmax"].text == "OUR-SOFTMAX-NOTE" and "matmul_tiling" in skills
    chosen = Knowledge(tuple(skills.values())).context(request(SOFTMAX))["skills"]
    assert chosen[0].title == "Our softmax"
    (tmp_path / "broken.md").write_text("---\ntags: [unclosed\n---\nbody\n")
    with pytest.raises(ValueError, match="skill broken: start it with front matter"):
        load_skills(tmp_path)
    with pytest.raises(ValueError, match="does not exist; create it or drop"):
        load_skills(tmp_path / "missing")
