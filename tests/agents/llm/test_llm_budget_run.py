"""`aikg run/resume/batch --budget-usd` against a scripted server: the call past the budget
is never made, the task (or search) ends as a step limit ends it, a resumed task counts
what its log spent, and a batch's tasks share one budget."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import SWISH, run_aikg
from tests.e2e.kernels import DESIGN, WRONG_KERNEL, fenced
from tests.support.aikg_cli import KEY_ENV
from tests.support.openai_server import ScriptedOpenAIServer, Step

# 50 completion tokens a reply at $1000 per million: $0.05 a call; a call may take up to
# 60 tokens ($0.06), so a $0.13 budget allows two calls and refuses the third.
PROSE = Step.reply("I would tile the rows; no code yet.", usage=(100, 50))


def write_config(tmp_path: Path, base_url: str) -> Path:
    role = {
        "provider": "openai",
        "model": "scripted",
        "base_url": base_url,
        "api_key_env": KEY_ENV,
        "max_retries": 0,
        "price_input_per_mtok": 0.0,
        "price_output_per_mtok": 1000.0,
        "request": {"max_tokens": 60},
    }
    path = tmp_path / "aikg.yaml"
    path.write_text(yaml.safe_dump({"agents": {"designer": role, "coder": role}}))
    return path


def events(db: Path, stream: str) -> list[tuple[str, dict]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT type, payload FROM events WHERE stream = ? ORDER BY seq", (stream,)
        ).fetchall()
    finally:
        conn.close()
    return [(kind, json.loads(payload)) for kind, payload in rows]


@pytest.mark.slow
def test_budget_stops_the_run_and_survives_a_resume(tmp_path: Path, aikg_env) -> None:
    env = {**aikg_env, KEY_ENV: "sk-test"}
    db = Path(env["AIKG_DB"])
    with ScriptedOpenAIServer([PROSE, Step.error(500)]) as server:
        config = str(write_config(tmp_path, server.base_url))
        flags = ["--config", config, "--budget-usd", "0.13", "--task-id", "b1", "-q"]
        first = run_aikg(["run", SWISH, *flags], tmp_path, env)
        assert first.returncode == 3, first.stderr  # the endpoint failed: an outage
        assert len(server.requests) == 2

        server.push(PROSE, PROSE, PROSE)
        resumed = run_aikg(["resume", "b1", "--json", "-q"], tmp_path, env)
        assert resumed.returncode == 1, resumed.stderr
        assert len(server.requests) == 3  # one more call: $0.10 spent, the next refused

    log = events(db, "b1")
    costs = [p["cost_usd"] for kind, p in log if kind == "llm.responded"]
    assert costs == [0.05, 0.05]
    missing = [p for kind, p in log if kind == "code.missing"]
    assert [m["reason"] for m in missing] == ["no_code", "budget_exhausted"]
    assert missing[-1]["role"] == "coder"
    assert "the task's LLM cost budget is spent ($0.1000 of $0.1300" in missing[-1]["message"]
    finished = [p for kind, p in log if kind == "task.finished"][-1]
    assert (finished["success"], finished["reason"]) == (False, "limit_reached")
    assert "budget" in finished["message"]
    summary = json.loads(resumed.stdout)
    assert (summary["status"], summary["success"]) == ("limit_reached", False)


@pytest.mark.slow
def test_batch_budget_is_shared_by_its_tasks(tmp_path: Path, aikg_env) -> None:
    env = {**aikg_env, KEY_ENV: "sk-test"}
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for name in ("a_swish", "b_swish"):
        (tasks / f"{name}.py").write_text(Path(SWISH).read_text())
    with ScriptedOpenAIServer([PROSE, PROSE, PROSE]) as server:
        config = str(write_config(tmp_path, server.base_url))
        flags = ["--config", config, "--budget-usd", "0.13", "--concurrency", "1", "--json"]
        batch = run_aikg(["batch", str(tasks), *flags, "-q"], tmp_path, env)
        assert batch.returncode == 1, batch.stderr
        assert len(server.requests) == 2  # $0.10 spent by the first task; nothing is left
    summaries = {Path(s["file"]).stem: s for s in json.loads(batch.stdout)}
    assert {(s["result"], s["status"]) for s in summaries.values()} == {("failed", "limit_reached")}
    second = events(Path(env["AIKG_DB"]), summaries["b_swish"]["task_id"])
    (missing,) = [p for kind, p in second if kind == "code.missing"]
    assert missing["role"] == "designer" and "the batch's LLM cost budget" in missing["message"]
    assert not [p for kind, p in second if kind == "llm.requested"]


def wrong_kernels(body: dict) -> Step:
    if "design" in body["messages"][0]["content"].lower()[:200]:
        return Step.reply(DESIGN, usage=(100, 50))
    return Step.reply(fenced(WRONG_KERNEL), usage=(100, 50))


@pytest.mark.slow
def test_budget_stops_a_search_before_its_next_round(tmp_path: Path, aikg_env) -> None:
    env = {**aikg_env, KEY_ENV: "sk-test"}
    search = ["--search", "beam", "--width", "2", "--budget-steps", "6"]
    with ScriptedOpenAIServer(responder=wrong_kernels) as server:
        config = str(write_config(tmp_path, server.base_url))
        flags = ["--config", config, "--budget-usd", "0.2", "--task-id", "s", "-q", "--json"]
        done = run_aikg(["run", SWISH, *search, *flags], tmp_path, env)
        assert done.returncode == 1, done.stderr
        # the design and two nodes ($0.15); a node beside the second did not fit next to it
        assert len(server.requests) == 3
    log = events(Path(env["AIKG_DB"]), "s")
    nodes = [p for kind, p in log if kind == "node.created"]
    coded = {p["step"] for kind, p in log if kind == "code.produced"}
    missing = [p for kind, p in log if kind == "code.missing"]
    assert len(coded) == 2 and {m["reason"] for m in missing} == {"budget_exhausted"}
    refused = {n["step"]: n["round"] for n in nodes if n["step"] not in coded}
    assert refused and {m["step"] for m in missing} == set(refused)  # no call for the rest
    finished = [p for kind, p in log if kind == "task.finished"][-1]
    assert finished["reason"] == "limit_reached" and "budget" in finished["message"]
