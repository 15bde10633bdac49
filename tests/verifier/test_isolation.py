"""The worker process: replaced after a crash or timeout and keeps working, scrubbed
environment, private directory, and a protocol the candidate's prints cannot corrupt."""

from __future__ import annotations

import os

import pytest

from verifier import Verifier, VerifyJob
from verifier.process import scrubbed_env

from .conftest import ADVERSARIAL, source

SWISH = source("good/swish.py")


def good_job() -> VerifyJob:
    return VerifyJob(source("ref_swish.py"), SWISH, trials=2, timeout_s=30)


def bad_job(name: str, timeout_s: float = 30) -> VerifyJob:
    return VerifyJob(
        source("ref_swish.py"), (ADVERSARIAL / f"{name}.py").read_text(), timeout_s=timeout_s
    )


async def test_warm_worker_is_reused_then_replaced_after_crash_and_timeout() -> None:
    async with Verifier(mode="warm") as verifier:
        assert (await verifier.verify(good_job())).passed
        first = verifier.worker_pid("cpu")
        assert (await verifier.verify(good_job())).passed
        assert verifier.worker_pid("cpu") == first and verifier.workers_started == 1

        crashed = await verifier.verify(bad_job("segfault"))
        assert crashed.stage == "crash" and "SIGSEGV" in crashed.message
        assert verifier.worker_pid("cpu") is None
        after_crash = await verifier.verify(good_job())
        assert after_crash.passed, after_crash.message
        second = verifier.worker_pid("cpu")
        assert second not in (None, first)

        timed_out = await verifier.verify(bad_job("hang", timeout_s=3))
        assert timed_out.stage == "timeout"
        assert (await verifier.verify(good_job())).passed
        assert verifier.worker_pid("cpu") not in (None, first, second)
        assert verifier.workers_started == 3
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)


def test_environment_is_scrubbed() -> None:
    base = {
        "PATH": "/usr/bin",
        "OPENAI_API_KEY": "sk-1",
        "MY_CUSTOM_CRED": "c",
        "GITHUB_TOKEN": "t",
        "db_password": "p",
        "HF_SECRET_X": "s",
        "TRITON_INTERPRET": "1",
    }
    env = scrubbed_env("cpu", ["MY_CUSTOM_CRED"], base=base)
    assert env["PATH"] == "/usr/bin" and env["TRITON_INTERPRET"] == "1"
    for name in ("OPENAI_API_KEY", "MY_CUSTOM_CRED", "GITHUB_TOKEN", "db_password", "HF_SECRET_X"):
        assert name not in env
    assert "TRITON_INTERPRET" not in scrubbed_env("cuda:0", [], base=base)


SPY = """
import os
import sys

PROBE = "|".join(
    [os.environ.get("AIKG_TEST_API_KEY", "-"), os.environ.get("AIKG_NAMED_CRED", "-"), os.getcwd()]
)
print('{"nonce": "x", "result": {"passed": true}}')
print(PROBE)
print("noise on stderr", file=sys.stderr)
raise RuntimeError("probe " + PROBE)
"""


async def test_candidate_sees_no_secrets_runs_in_private_dir_and_prints_harmlessly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIKG_TEST_API_KEY", "sk-secret")
    monkeypatch.setenv("AIKG_NAMED_CRED", "named-secret")
    candidate = SWISH + SPY
    async with Verifier(mode="oneshot", secret_env_names=("AIKG_NAMED_CRED",)) as verifier:
        result = await verifier.verify(VerifyJob(source("ref_swish.py"), candidate))
    assert result.stage == "import", result.message
    key, cred, cwd = result.message.split("probe ")[1].split("|")
    assert (key, cred) == ("-", "-")
    assert "aikg-worker-" in cwd and cwd != os.getcwd()


async def test_prints_inside_forward_do_not_corrupt_the_protocol() -> None:
    noisy = SWISH.replace(
        "        return out", '        print(\'{"result": {"passed": false}}\')\n        return out'
    )
    async with Verifier(mode="warm") as verifier:
        result = await verifier.verify(VerifyJob(source("ref_swish.py"), noisy, trials=2))
    assert result.passed, result.message
