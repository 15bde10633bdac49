"""A log written by the code before verify results were typed reads into typed values.

`logs/old_code_log.json` holds events as that code wrote them (its canned layernorm stream,
whose results lack the fields the verifier has gained since, and a code.missing stream); they
go into a real SQLite log and come back through the event codec and the fold.
"""

from __future__ import annotations

import json
from pathlib import Path

from aikg.summary import step_lines
from machine import events as ev
from machine.describe import describe
from machine.recorder import decode_stored
from machine.state import fold
from store import EventStore, NewEvent
from verifier.result import VerifyResult

OLD_LOG = Path(__file__).parent / "logs" / "old_code_log.json"


async def read_back(tmp_path: Path) -> dict[str, list[ev.Event]]:
    rows = json.loads(OLD_LOG.read_text())["events"]
    store = await EventStore.open(tmp_path / "events.db")
    try:
        streams = sorted({row["stream"] for row in rows})
        for stream in streams:
            await store.append(
                stream,
                [
                    NewEvent(row["type"], row["payload"], row["version"])
                    for row in rows
                    if row["stream"] == stream
                ],
            )
        return {s: [decode_stored(e) for e in await store.read_stream(s)] for s in streams}
    finally:
        await store.close()


async def test_old_verify_results_read_as_typed_results(tmp_path: Path) -> None:
    events = (await read_back(tmp_path))["layernorm-1"]
    written = [
        row["payload"]["result"]
        for row in json.loads(OLD_LOG.read_text())["events"]
        if row["type"] == "verify.finished"
    ]
    finished = [e for e in events if isinstance(e, ev.VerifyFinished)]
    assert [type(e.result) for e in finished] == [VerifyResult, VerifyResult]
    for event, payload in zip(finished, written, strict=True):
        assert (event.result.passed, event.result.stage) == (payload["passed"], payload["stage"])
        assert event.result.message == payload["message"]
        assert event.result.device_spans == ()  # a field the old code did not write
        assert describe(event) == f"rejected at {payload['stage']}: {payload['message']}"
        on_disk = event.to_payload()["result"]  # written back: the old keys, same values
        assert {k: on_disk[k] for k in payload} == payload
    state = fold(enumerate(events, start=1))
    assert [a.stage for a in state.attempts] == [p["stage"] for p in written]
    assert state.attempts[1].result is not None
    assert state.attempts[1].result.first_bad_index == written[1]["first_bad_index"]
    assert not any(a.passed for a in state.attempts) and state.best is None


async def test_old_code_missing_reads_as_the_event_with_its_reason(tmp_path: Path) -> None:
    events = (await read_back(tmp_path))["unsupported-1"]
    missing = next(e for e in events if isinstance(e, ev.CodeMissing))
    attempt = fold(enumerate(events, start=1)).attempts[0]
    assert attempt.missing == missing
    assert (attempt.stage, attempt.message) == (missing.reason, missing.message)
    told = {"passed": False, "stage": missing.reason, "message": missing.message}
    assert attempt.feedback == told
    assert step_lines(fold(enumerate(events, start=1)))[0] == (
        f"step 1: no code ({missing.reason}: {missing.message})"
    )
