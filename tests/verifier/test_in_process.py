"""The in-process runner: correct kernels pass; rejections carry the right stage."""

from __future__ import annotations

from verifier import VerifyJob, verify_in_process

from .conftest import ADVERSARIAL, source


def test_swish_passes_with_five_trials() -> None:
    result = verify_in_process(VerifyJob(source("ref_swish.py"), source("good/swish.py"), trials=5))
    assert result.passed, result.message
    assert result.stage is None and result.trials_run == 5


def test_broadcasting_add_passes() -> None:
    job = VerifyJob(source("ref_add_broadcast.py"), source("good/add_broadcast.py"))
    assert verify_in_process(job).passed


def test_numpy_reference_against_torch_candidate() -> None:
    job = VerifyJob(source("ref_swish_numpy.py"), source("good/swish.py"), framework="numpy")
    result = verify_in_process(job)
    assert result.passed, result.message


def test_small_shapes_are_used_when_asked() -> None:
    job = VerifyJob(source("ref_swish.py"), source("good/swish.py"), small_shapes=True)
    assert verify_in_process(job).passed


def test_mismatch_fields_are_filled() -> None:
    job = VerifyJob(source("ref_swish.py"), (ADVERSARIAL / "wrong_math.py").read_text())
    result = verify_in_process(job)
    assert result.stage == "mismatch"
    assert result.max_abs_err and result.max_rel_err and result.frac_mismatch
    assert result.first_bad_index is not None and len(result.first_bad_index) == 2


def test_loose_tolerance_override_lets_a_near_miss_pass() -> None:
    near = source("good/swish.py").replace(
        "x * tl.sigmoid(beta * x)", "x * tl.sigmoid(beta * x) + 1e-3"
    )
    strict = verify_in_process(VerifyJob(source("ref_swish.py"), near))
    loose = verify_in_process(
        VerifyJob(source("ref_swish.py"), near, tolerances={"float32": (1e-2, 1e-2)})
    )
    assert strict.stage == "mismatch" and loose.passed


def test_cpu_profile_marks_interpreter_timings() -> None:
    job = VerifyJob(source("ref_swish.py"), source("good/swish.py"), task_type="profile", trials=1)
    result = verify_in_process(job)
    assert result.passed and result.timings is not None
    assert "not speedups" in result.timings["note"]
    assert result.timings["candidate"]["median_ms"] > 0 and result.timings["compile"] is None


def test_reference_that_fails_to_load_is_reported() -> None:
    result = verify_in_process(VerifyJob("raise ValueError('bad task')\n", source("good/swish.py")))
    assert result.stage == "import" and "reference" in result.message
