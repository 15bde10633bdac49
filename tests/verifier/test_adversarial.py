"""Adversarial candidates through a real warm worker (and the process-level ones also in
one-shot mode): each is rejected at the expected stage, correct kernels pass."""

from __future__ import annotations

import pytest
import pytest_asyncio

from verifier import Verifier, VerifyJob

from .conftest import ADVERSARIAL, source

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

EXPECTED_STAGE = {
    "compile_error": "compile",
    "data_ptr_cache": "cheat",
    "empty_output": "mismatch",
    "hang": "timeout",
    "hardcoded_seed": "mismatch",
    "in_place": "cheat",
    "module_cache": "static",
    "numpy_compute": "static",
    "baked_size": "mismatch",
    "host_loss": "cheat",
    "host_loss_python": "static",
    "later_calls_getattr": "static",
    "later_calls_torch": "static",
    "relaxed_precision": "mismatch",
    "transposed_output": "mismatch",
    "unwritten_accumulator": "nondeterministic",
    "grid_host_compute": "cheat",
    "timing_cache": "timing-cheat",
    "timing_noop_cache": "timing-cheat",
    "os_exit": "crash",
    "out_of_memory": "runtime",
    "reference_output_gc": "static",
    "reference_output_leftovers": "cheat",
    "segfault": "crash",
    "segfault_ctypes": "static",
    "side_stream": "static",
    "swallow": "static",
    "sys_exit": "runtime",
    "torch_arithmetic": "static",
    "torch_op": "static",
    "wrong_math": "mismatch",
    "zero_inputs": "cheat",
}
# Candidates checked against another task than ref_swish.py.
REFERENCE = {
    "baked_size": "ref_swish_variants.py",
    "host_loss": "ref_mse.py",
    "host_loss_python": "ref_mse.py",
    "relaxed_precision": "ref_precision_probe.py",
}
# Candidates that cheat only once they are timed: verified in profile mode.
PROFILED = {"timing_cache", "timing_noop_cache"}
PROCESS_LEVEL = ["hang", "segfault", "os_exit", "sys_exit", "out_of_memory"]
TIMEOUT_S = 20.0
HANG_TIMEOUT_S = 4.0


def job_for(name: str, device: str = "cpu") -> VerifyJob:
    timeout = HANG_TIMEOUT_S if name == "hang" else TIMEOUT_S
    candidate = (ADVERSARIAL / f"{name}.py").read_text()
    reference = source(REFERENCE.get(name, "ref_swish.py"))
    task_type = "profile" if name in PROFILED else "precision_only"
    return VerifyJob(
        reference, candidate, trials=5, timeout_s=timeout, task_type=task_type, device=device
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def warm() -> Verifier:
    verifier = Verifier(mode="warm", cpu_memory_headroom_bytes=1 << 30)
    yield verifier
    await verifier.close()


def test_every_adversarial_file_has_an_expectation() -> None:
    assert sorted(p.stem for p in ADVERSARIAL.glob("*.py")) == sorted(EXPECTED_STAGE)


@MODULE_LOOP
@pytest.mark.parametrize("name", sorted(EXPECTED_STAGE))
async def test_warm_rejects_at_expected_stage(warm: Verifier, name: str) -> None:
    result = await warm.verify(job_for(name))
    assert not result.passed
    assert result.stage == EXPECTED_STAGE[name], result.message
    assert result.message


@MODULE_LOOP
@pytest.mark.parametrize(
    ("good", "reference"),
    [
        ("swish", "ref_swish.py"),
        ("swish", "ref_swish_variants.py"),
        ("add_broadcast", "ref_add_broadcast.py"),
        ("mse", "ref_mse.py"),
    ],
)
async def test_warm_passes_correct_kernels(warm: Verifier, good: str, reference: str) -> None:
    result = await warm.verify(VerifyJob(source(reference), source(f"good/{good}.py"), trials=5))
    assert result.passed, result.message


@MODULE_LOOP
async def test_warm_profiles_a_correct_kernel_on_the_cpu(warm: Verifier) -> None:
    job = VerifyJob(source("ref_swish.py"), source("good/swish.py"), task_type="profile")
    result = await warm.verify(job)
    assert result.passed, result.message
    assert result.timings is not None and result.timings["candidate"]["runs"] == 3


@pytest.mark.parametrize("name", PROCESS_LEVEL)
async def test_oneshot_rejects_at_expected_stage(name: str) -> None:
    async with Verifier(mode="oneshot", cpu_memory_headroom_bytes=1 << 30) as verifier:
        result = await verifier.verify(job_for(name))
    assert result.stage == EXPECTED_STAGE[name], result.message
