"""The figures of a long run's progress: counts, geomean per baseline, elapsed and ETA."""

from __future__ import annotations

import io

from aikg.run_progress import RunProgress, duration
from machine import events as ev
from machine.state import StepAttempt, TaskState
from verifier.result import VerifyResult


def verified(eager: float, compile_: float) -> TaskState:
    timings = {"speedup_vs_eager": eager, "speedup_vs_compile": compile_}
    result = VerifyResult(passed=True, stage=None, message="", timings=timings)
    attempt = StepAttempt(step=1, code="...", result=result)
    return TaskState(attempts=(attempt,), finished=ev.TaskFinished(True, "verified", "verified", 1))


def test_figures_count_kept_and_finished_tasks_and_take_geomeans() -> None:
    stream = io.StringIO()
    progress = RunProgress(4, stream, speedups=True)
    progress.kept(verified(2.0, 1.0))  # finished by an earlier invocation
    assert progress.eta(10.0) == "--"  # no pace yet: kept tasks took no time here
    progress.task_ended("b", verified(8.0, 4.0), "[2/4] b: verified")
    failed = TaskState(finished=ev.TaskFinished(False, "limit_reached", "no", 3))
    progress.task_ended("c", failed, "[3/4] c: failed")
    line = stream.getvalue().splitlines()[-1]
    assert line.startswith("[3/4] c: failed · 3/4 done, 2 verified, ")
    assert "geomean 4.00x eager, 2.00x compile" in line  # sqrt(2*8), sqrt(1*4)
    assert progress.eta(60.0) == "30s"  # 60 s for the 2 run here, 1 left
    assert "\x1b[" not in stream.getvalue()  # not a terminal: plain lines


def test_no_geomean_where_timings_are_not_speedups() -> None:
    stream = io.StringIO()
    progress = RunProgress(1, stream, speedups=False)
    progress.task_ended("a", verified(3.0, 3.0), "[1/1] a: verified")
    assert "geomean" not in stream.getvalue() and "ETA 0s" in stream.getvalue()


def test_durations_read_as_a_person_writes_them() -> None:
    assert [duration(s) for s in (4.6, 125, 3720)] == ["5s", "2m05s", "1h02m"]
