"""Tasks described in prose: the design's own example, the CLI around it, and the LLM form."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aikg import Task
from aikg.config import load_config
from aikg.summary import summarize
from machine.spec import TaskSpecError
from tests.e2e.kernels import DESIGN, SWISH_KERNEL, fenced
from tests.e2e.test_llm_outage import outage_config
from tests.e2e.test_llm_tasks import KEY, llm_config, stream
from tests.support.openai_server import ScriptedOpenAIServer, Step

REPO = Path(__file__).resolve().parents[2]
# what a model answers when asked for the reference (the prompt gives beta = 1.5)
LLM_REFERENCE = (REPO / "tests" / "verifier" / "ref_swish.py").read_text()


def aikg(*args: str, db: Path, stdin: int | None = subprocess.DEVNULL):
    return subprocess.run(
        [sys.executable, "-m", "aikg", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        stdin=stdin,
        timeout=120,
        env={**os.environ, "AIKG_DB": str(db)},
        cwd=db.parent,
    )


async def test_the_design_example_runs_and_shows_its_reference(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    config = load_config(overrides={"db": str(db), "verifier": {"trials": 1}})
    task = Task(
        op_name="swish",
        task_desc="Swish activation function: x * sigmoid(beta * x)",
        backend="cpu",
        arch="cpu",
        impl_type="triton",
        config=config,
    )
    assert await task.run() is True
    events = await stream(tmp_path, task.task_id)
    created, proposed = events[0], events[1]
    assert (created.TYPE, proposed.TYPE) == ("task.created", "reference.proposed")
    assert proposed.written_by == "formula"
    assert proposed.prose == "Swish activation function: x * sigmoid(beta * x)"
    assert proposed.parameters == {"beta": 1.0} and proposed.defaulted == ["beta"]
    assert created.task_desc == proposed.source  # every step ran against this reference
    assert "return x * torch.sigmoid(self.beta * x)" in proposed.source

    shown = aikg("show", task.task_id, "--reference", db=db)
    assert shown.returncode == 0 and shown.stdout == proposed.source
    assert summarize(task.state)["reference"] == "prose (formula)"  # a line of `aikg show`
    exported = aikg("export", task.task_id, "--reference", "-o", "ref.py", db=db)
    assert exported.returncode == 0 and (tmp_path / "ref.py").read_text() == proposed.source


def test_prose_flags_confirm_and_bad_prose_exit_2_recording_nothing(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    notes = tmp_path / "swish.md"
    notes.write_text("# Swish\n\nSwish activation function: x * sigmoid(beta * x)\n")
    flags = ("--param", "beta=2", "--shape", "x=4x8", "--dtype", "x=float64")
    asked = aikg("run", str(notes), *flags, "--confirm", db=db)
    assert asked.returncode == 2
    # the reference is shown before anything runs, with every value it was written with
    assert "input x: 4x8 float64" in asked.stderr and "beta = 2.0" in asked.stderr
    assert "torch.randn((4, 8), dtype=torch.float64)" in asked.stderr
    assert "--confirm needs a terminal" in asked.stderr.splitlines()[-1]

    unclear = aikg("run", "--desc", "Swish is a smooth activation function", db=db)
    assert unclear.returncode == 2
    assert "could not understand 'Swish is a smooth activation function'" in unclear.stderr
    assert '"Name: expression"' in unclear.stderr  # the formula form is shown

    assert not db.exists()  # nothing was recorded by any of them


def test_confirm_on_a_terminal_asks_and_a_no_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    terminal, its_end = os.openpty()
    try:
        os.write(terminal, b"n\n")  # the answer, waiting in the terminal's input
        run = aikg("run", "--desc", "Swish: x * sigmoid(x)", "--confirm", db=db, stdin=its_end)
    finally:
        os.close(its_end)
        os.close(terminal)
    assert run.returncode == 2, run.stderr
    assert "run against this reference? [y/N]" in run.stdout
    assert "the reference was not accepted: nothing was recorded" in run.stderr
    assert not db.exists()


async def test_the_llm_designer_writes_the_reference_from_prose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIKG_TEST_KEY", KEY)
    prose = "Swish: multiply x by the sigmoid of beta times x."
    script = [
        Step.reply(fenced(LLM_REFERENCE)),
        Step.reply(DESIGN),
        Step.reply(fenced(SWISH_KERNEL)),
    ]
    with ScriptedOpenAIServer(script) as server:
        config = llm_config(tmp_path, server, params={"beta": 1.5}, verifier={"trials": 1})
        task = Task(op_name="swish", task_desc=prose, task_id="prose-llm", config=config)
        assert await task.run() is True
        asked = json.dumps(server.requests[0].body["messages"])
    assert prose in asked and "parameter beta = 1.5" in asked
    events = await stream(tmp_path, "prose-llm")
    proposed = events[1]
    assert proposed.TYPE == "reference.proposed"
    assert (proposed.written_by, proposed.model, proposed.prose) == ("llm", "scripted-coder", prose)
    assert events[0].task_desc == proposed.source == LLM_REFERENCE.strip() + "\n"


async def test_an_llm_reply_without_a_reference_is_refused_before_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIKG_TEST_KEY", KEY)
    with ScriptedOpenAIServer([Step.reply("Swish is x times its sigmoid.")]) as server:
        task = Task(op_name="swish", task_desc="Swish, please", config=llm_config(tmp_path, server))
        with pytest.raises(TaskSpecError, match="wrote no reference from the prose"):
            await task.run()
    assert not (tmp_path / "events.db").exists()


def test_an_llm_outage_while_writing_the_reference_exits_3_recording_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIKG_TEST_KEY", KEY)
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = outage_config(tmp_path, f"http://127.0.0.1:{port}/v1")
    db = tmp_path / "events.db"
    run = aikg("run", "--desc", "Swish, the smooth ReLU", "--config", str(config), db=db)
    assert run.returncode == 3, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert "did not answer while writing the reference from the prose" in last
    assert "nothing was recorded" in last and not db.exists()
