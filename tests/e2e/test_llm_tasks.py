"""Whole tasks against a real OpenAI-compatible server on 127.0.0.1 with scripted replies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aikg.config import load_config
from devicepool import DevicePool
from machine.recorder import decode_stored
from machine.task import Task
from store import EventStore
from tests.e2e.kernels import DESIGN, SWISH_KERNEL, WRONG_KERNEL, fenced
from tests.support.openai_server import ScriptedOpenAIServer, Step

REPO = Path(__file__).resolve().parents[2]
SWISH = (REPO / "examples" / "swish.py").read_text()
KEY = "sk-test-7f3a9c1e5b2d8046-secret"


def llm_config(tmp_path: Path, server: ScriptedOpenAIServer, **extra):
    role = {
        "provider": "openai",
        "model": "scripted-coder",
        "base_url": server.base_url,
        "api_key_env": "AIKG_TEST_KEY",
        "timeout_s": 2.0,
        "backoff_base_s": 0.05,
        "price_input_per_mtok": 1.0,
        "price_output_per_mtok": 2.0,
    }
    overrides = {
        "db": str(tmp_path / "events.db"),
        "verifier": {"trials": 2},
        "agents": {"designer": role, "coder": role},
        **extra,
    }
    return load_config(overrides=overrides)


def task_for(tmp_path: Path, config, task_id: str, limit_steps: int = 5) -> Task:
    return Task(
        op_name="swish",
        task_desc=SWISH,
        task_id=task_id,
        backend="cpu",
        config=config,
        device_pool=DevicePool(["cpu"]),
        limit_steps=limit_steps,
    )


async def stream(tmp_path: Path, task_id: str):
    async with await EventStore.open(tmp_path / "events.db") as store:
        return [decode_stored(s) for s in await store.read_stream(task_id)]


async def test_wrong_kernel_then_fixed_in_two_code_steps(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AIKG_TEST_KEY", KEY)
    script = [
        Step.reply(DESIGN),
        Step.reply(fenced(WRONG_KERNEL)),
        Step.reply(fenced(SWISH_KERNEL)),
    ]
    with ScriptedOpenAIServer(script) as server:
        task = task_for(tmp_path, llm_config(tmp_path, server), "fix")
        assert await task.run() is True
        assert len(server.requests) == 3
        second_coder_prompt = json.dumps(server.requests[2].body["messages"])
        assert "mismatch" in second_coder_prompt  # the verifier's error reached the coder
        assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    state = task.state
    assert state.step == 2 and [a.passed for a in state.attempts] == [False, True]
    assert state.llm_calls == 3 and state.tokens == 3 * 150
    assert abs(state.cost_usd - 3 * (100 * 1.0 + 50 * 2.0) / 1e6) < 1e-12
    types = [e.TYPE for e in await stream(tmp_path, "fix")]
    assert types.count("llm.requested") == types.count("llm.responded") == 3
    # the key's value is nowhere in the database files
    for file in tmp_path.glob("events.db*"):
        assert KEY.encode() not in file.read_bytes()


async def test_an_llm_repeating_itself_is_told_so_and_not_verified_again(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("AIKG_TEST_KEY", KEY)
    again = "# the same kernel, reformatted\n" + WRONG_KERNEL.replace("\n\n\n", "\n\n")
    script = [
        Step.reply(DESIGN),
        Step.reply(fenced(WRONG_KERNEL)),
        Step.reply(fenced(again)),
        Step.reply(DESIGN + " (second design)"),  # a mismatch twice in a row: redesign
        Step.reply(fenced(SWISH_KERNEL)),
    ]
    with ScriptedOpenAIServer(script) as server:
        task = task_for(tmp_path, llm_config(tmp_path, server), "repeat")
        assert await task.run() is True
        prompts_after = [json.dumps(r.body["messages"]) for r in server.requests[3:]]
    told = "the same code as step 1's, so it was not verified again"
    assert all(told in prompt for prompt in prompts_after)  # designer and coder alike
    events = await stream(tmp_path, "repeat")
    assert [(e.TYPE, e.step) for e in events if e.TYPE.startswith("verify.")] == [
        ("verify.finished", 1),
        ("verify.repeated", 2),
        ("verify.finished", 3),
    ]


async def test_faults_are_retried_recorded_and_the_task_finishes(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("AIKG_TEST_KEY", KEY)
    script = [
        Step.reply(DESIGN),
        Step.error(429, retry_after="1"),
        Step.error(500),
        Step.cut(fenced(SWISH_KERNEL)),
        Step.stall(fenced(SWISH_KERNEL), seconds=4.0),
        Step.reply("I would write the kernel like the reference, nothing to add."),
        Step.reply(fenced("__global__ void swish(float* x) {}", "cuda")),
        Step.reply(DESIGN + " (second design)"),
        Step.reply(fenced(SWISH_KERNEL)),
    ]
    with ScriptedOpenAIServer(script) as server:
        task = task_for(tmp_path, llm_config(tmp_path, server), "faults")
        assert await task.run() is True
        assert server.remaining == 0
        waited = server.requests[2].received_at - server.requests[1].received_at
        assert waited >= 0.95  # Retry-After: 1 was honoured
        last_coder = json.dumps(server.requests[-1].body["messages"])
    events = await stream(tmp_path, "faults")
    retries = [e for e in events if e.TYPE == "llm.retried"]
    assert len(retries) == 4
    assert "429" in retries[0].reason and "500" in retries[1].reason
    missing = [e for e in events if e.TYPE == "code.missing"]
    assert [m.reason for m in missing] == ["no_code", "no_code"]
    assert "python" in missing[1].message.lower()
    decisions = [e.action for e in events if e.TYPE == "conductor.decided"]
    assert decisions == ["fix_code", "fix_design", "finish"]
    assert task.state.step == 3
    assert "no_code" in last_coder or "no usable" in last_coder.lower()


def test_replay_provider_makes_no_http_call(tmp_path: Path) -> None:
    env = {**os.environ, "AIKG_DB": str(tmp_path / "events.db"), "AIKG_TEST_KEY": KEY}
    script = [
        Step.reply(DESIGN),
        Step.reply(fenced(WRONG_KERNEL)),
        Step.reply(fenced(SWISH_KERNEL)),
    ]
    swish = str(REPO / "examples" / "swish.py")
    with ScriptedOpenAIServer(script) as server:
        live = subprocess.run(
            [
                sys.executable,
                "-m",
                "aikg",
                "run",
                swish,
                "--task-id",
                "live",
                "--json",
                "--llm",
                "openai",
                "--llm-base-url",
                server.base_url,
                "--llm-model",
                "m",
                "--llm-api-key-env",
                "AIKG_TEST_KEY",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert live.returncode == 0, live.stderr
        served = len(server.requests)
        replayed = subprocess.run(
            [
                sys.executable,
                "-m",
                "aikg",
                "run",
                swish,
                "--task-id",
                "again",
                "--json",
                "--llm",
                "replay",
                "--from",
                "live",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert replayed.returncode == 0, replayed.stderr
        assert len(server.requests) == served  # no HTTP call
    first, second = json.loads(live.stdout), json.loads(replayed.stdout)
    assert (second["steps"], second["best_code"]) == (first["steps"], first["best_code"])
    assert first["tokens"] == 450 and first["steps"] == 2


async def test_llm_conductor_analysis_chooses_the_repair(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AIKG_TEST_KEY", KEY)
    decision = '{"action": "fix_design", "reason": "the sigmoid is applied to x, not beta*x"}'
    script = [
        Step.reply(DESIGN),
        Step.reply(fenced(WRONG_KERNEL)),
        Step.reply(decision),  # the conductor reads the mismatch
        Step.reply(DESIGN + " (redesigned)"),
        Step.reply(fenced(SWISH_KERNEL)),
    ]
    with ScriptedOpenAIServer(script) as server:
        config = llm_config(tmp_path, server, conductor={"llm_analysis": True})
        role = config.agents.coder.model_dump(mode="json")
        config = config.updated({"agents": {"conductor": role}})
        task = task_for(tmp_path, config, "analysed")
        assert await task.run() is True
        conductor_prompt = json.dumps(server.requests[2].body["messages"])
    assert "mismatch" in conductor_prompt
    decided = [e for e in await stream(tmp_path, "analysed") if e.TYPE == "conductor.decided"]
    assert (decided[0].action, decided[0].by) == ("fix_design", "llm")
    assert "beta*x" in decided[0].reason
    assert (decided[-1].action, decided[-1].by) == ("finish", "rules")
