"""Replay, fork and the db commands on real recorded runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e.conftest import SWISH, by_role, llm_flags, rows, run_aikg, said
from tests.support.openai_server import ScriptedOpenAIServer


def tamper(db: Path, stream: str, seq: int, change) -> None:
    """What an attacker or a bug would do: bypass the append-only triggers."""
    conn = sqlite3.connect(db)
    try:
        triggers = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        (payload,) = conn.execute(
            "SELECT payload FROM events WHERE stream=? AND seq=?", (stream, seq)
        ).fetchone()
        conn.execute(
            "UPDATE events SET payload=? WHERE stream=? AND seq=?",
            (json.dumps(change(json.loads(payload))), stream, seq),
        )
        conn.commit()
    finally:
        conn.close()


def seq_of(db: Path, stream: str, type_: str) -> int:
    return next(seq for seq, t, _ in rows(db, stream) if t == type_)


def test_replay_builtin_run_matches_and_detects_tampering(tmp_path: Path, aikg_env) -> None:
    db = tmp_path / "events.db"
    run = run_aikg(["run", SWISH, "--task-id", "b", "-q"], tmp_path, aikg_env)
    assert run.returncode == 0, said(run)
    replay = run_aikg(["replay", "b"], tmp_path, aikg_env)
    assert replay.returncode == 0, said(replay)
    assert "replay matches the recording" in replay.stdout
    for kind in ("design.produced", "code.produced", "verify.finished", "task.finished"):
        assert kind in replay.stdout

    until = seq_of(db, "b", "code.produced")
    partial = run_aikg(["replay", "b", "--until", str(until)], tmp_path, aikg_env)
    assert partial.returncode == 0 and "verify.finished" not in partial.stdout, said(partial)

    reverify = run_aikg(["replay", "b", "--reverify"], tmp_path, aikg_env)
    assert reverify.returncode == 0, said(reverify)

    tamper(db, "b", until, lambda p: {**p, "code": p["code"].replace("sigmoid", "tanh", 1)})
    diverged = run_aikg(["replay", "b"], tmp_path, aikg_env)
    assert diverged.returncode == 1, said(diverged)
    assert "DIFFERS" in diverged.stdout and "replay diverged" in diverged.stderr, said(diverged)


def test_replay_of_scripted_llm_run_needs_no_server(tmp_path: Path, aikg_env) -> None:
    with ScriptedOpenAIServer(responder=by_role()) as server:
        live = run_aikg(
            ["run", SWISH, "--task-id", "l", "-q", *llm_flags(server.base_url)], tmp_path, aikg_env
        )
        assert live.returncode == 0, said(live)
    # the server is gone: a replay that made an HTTP call would fail
    replay = run_aikg(["replay", "l"], tmp_path, aikg_env)
    assert replay.returncode == 0, said(replay)
    assert replay.stdout.count("code.produced") == 2, said(replay)

    db = tmp_path / "events.db"
    decided = seq_of(db, "l", "conductor.decided")
    tamper(db, "l", decided, lambda p: {**p, "reason": "something else"})
    tampered = run_aikg(["replay", "l"], tmp_path, aikg_env)
    assert tampered.returncode == 1, said(tampered)


def test_fork_continues_from_an_event_with_new_settings(tmp_path: Path, aikg_env) -> None:
    db = tmp_path / "events.db"
    assert run_aikg(["run", SWISH, "--task-id", "orig", "-q"], tmp_path, aikg_env).returncode == 0
    at = seq_of(db, "orig", "code.produced")
    fork = run_aikg(
        ["fork", "orig", "--at", str(at), "--limit-steps", "4", "--task-id", "f", "--json", "-q"],
        tmp_path,
        aikg_env,
    )
    assert fork.returncode == 0, fork.stderr
    result = json.loads(fork.stdout)
    assert result["task_id"] == "f" and result["limit_steps"] == 4 and result["success"]
    forked = rows(db, "f")
    created = json.loads(forked[0][2])
    assert created["forked_from"] == {"task_id": "orig", "seq": at}
    original = rows(db, "orig")
    assert [t for _, t, _ in forked[1:at]] == [t for _, t, _ in original[1:at]]
    assert [t for _, t, _ in forked].count("code.produced") == 1  # not regenerated
    bad = run_aikg(["fork", "orig", "--at", "999"], tmp_path, aikg_env)
    assert bad.returncode == 2 and "events 1.." in bad.stderr


def test_db_check_export_import(tmp_path: Path, aikg_env) -> None:
    db = tmp_path / "events.db"
    assert run_aikg(["run", SWISH, "--task-id", "x", "-q"], tmp_path, aikg_env).returncode == 0
    show = run_aikg(["show", "x"], tmp_path, aikg_env)
    assert show.returncode == 0
    assert "step 1: passed" in show.stdout and "-> finish (rules)" in show.stdout
    check = run_aikg(["db", "check"], tmp_path, aikg_env)
    assert check.returncode == 0 and ": ok" in check.stdout

    exported = run_aikg(["db", "export", "x"], tmp_path, aikg_env)
    assert exported.returncode == 0
    dump = tmp_path / "x.jsonl"
    dump.write_text(exported.stdout)
    other = tmp_path / "other.db"
    imported = run_aikg(["db", "import", str(dump), "--db", str(other)], tmp_path, aikg_env)
    assert imported.returncode == 0, imported.stderr
    assert rows(other, "x") == rows(db, "x")
    again = run_aikg(["db", "import", str(dump), "--db", str(other)], tmp_path, aikg_env)
    assert again.returncode == 2 and "already in the log" in again.stderr

    tamper(db, "x", 2, lambda p: {**p, "unexpected": 1})
    conn = sqlite3.connect(db)
    conn.execute("UPDATE events SET type='no.such' WHERE stream='x' AND seq=3")
    conn.execute("UPDATE events SET payload='{not json' WHERE stream='x' AND seq=4")
    conn.execute("DELETE FROM events WHERE stream='x' AND seq=5")
    conn.commit()
    conn.close()
    broken = run_aikg(["db", "check"], tmp_path, aikg_env)
    assert broken.returncode == 1
    for needle in ("does not decode", "unknown event type 'no.such'", "not valid JSON", "a gap"):
        assert needle in broken.stdout, broken.stdout
