"""An LLM outage interrupts the real `aikg run` resumably (exit 3); `aikg resume` goes on
from the failed call once the endpoint answers again, and a finished task is not resumed."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.e2e.conftest import SWISH, rows, run_aikg
from tests.e2e.kernels import DESIGN, SWISH_KERNEL, fenced
from tests.support.openai_server import ScriptedOpenAIServer, Step


def outage_config(tmp_path: Path, base_url: str) -> Path:
    role = {
        "provider": "openai",
        "model": "scripted",
        "base_url": base_url,
        "api_key_env": "AIKG_TEST_KEY",
        "timeout_s": 1.0,
        "waiting_report_s": 0.3,
        "max_retries": 1,
        "backoff_base_s": 0.01,
    }
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump({"agents": {"designer": role, "coder": role}}))
    return path


def test_outage_interrupts_and_resume_continues_from_the_failed_call(
    tmp_path: Path, aikg_env
) -> None:
    db = tmp_path / "events.db"
    with ScriptedOpenAIServer([Step.delay(2.5)] * 2) as silent:  # accepts, never answers
        url, port = silent.base_url, silent.port
        config = outage_config(tmp_path, url)
        run = run_aikg(
            ["run", SWISH, "--task-id", "t", "--config", str(config)], tmp_path, aikg_env
        )
    assert run.returncode == 3, run.stderr
    assert f"waiting for the LLM at {url}: nothing for" in run.stderr  # the progress line
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"aikg: task t interrupted because the LLM endpoint {url} did not")
    assert "2 attempts over" in last and "no reply within 1 s (timeout_s)" in last
    assert f"continue it with `aikg resume t --db {db}`" in last
    events = rows(db, "t")
    assert events[-1][1] == "task.interrupted"
    assert json.loads(events[-1][2])["signal"] == "llm_outage"

    down = run_aikg(["resume", "t", "-q"], tmp_path, aikg_env)  # nothing listens now
    assert down.returncode == 3, down.stderr
    assert "the last: connection failed" in down.stderr

    replies = [Step.reply(DESIGN), Step.reply(fenced(SWISH_KERNEL))]
    with ScriptedOpenAIServer(replies, port=port) as back:
        resumed = run_aikg(["resume", "t", "-q"], tmp_path, aikg_env)
        assert resumed.returncode == 0, resumed.stderr
        assert len(back.requests) == 2  # the design call that failed, then the code
    types = [t for _, t, _ in rows(db, "t")]
    assert types.count("task.interrupted") == 2 and types.count("task.resumed") == 2
    assert types.count("llm.responded") == 2 and types[-1] == "task.finished"

    again = run_aikg(["resume", "t"], tmp_path, aikg_env)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "aikg: task t already finished (verified): nothing to resume; see `aikg show t`"
    )
