"""Every backend x arch x impl_type x framework combination: works, or one line saying why.

Through the `Task(...)` API over the whole matrix, and a few through `aikg run`. A
rejected combination raises before anything is written: the store file stays empty.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import pytest
import torch

from aikg.config import load_config
from machine.spec import TaskSpecError
from machine.task import Task
from store import EventStore
from tests.frameworks.conftest import (
    HAS_MINDSPORE,
    TASK_FILES,
    WITHOUT_MINDSPORE,
    aikg,
    event_count,
    llm_flags,
    one_line_error,
)
from tests.support.openai_server import ScriptedOpenAIServer, Step

CPU_ARCHS = "cpu"
CUDA_ARCHS = "a100, a10, a10g, h100, h800, h20, h200, l20, l40, l40s, l4, v100, b200, rtx4090"
ASCEND_ARCHS = "ascend910b1, ascend910b2, ascend910b3, ascend910b4, ascend310p3"
KNOWN = {"cpu": CPU_ARCHS, "cuda": CUDA_ARCHS, "ascend": ASCEND_ARCHS}
ARCHS_TRIED = {
    "cpu": [None, "cpu", "h100", "ascend910b4", "x86"],
    "cuda": [None, "h100", "a100", "l20", "cpu", "ascend910b1"],
    "ascend": [None, "ascend910b1", "ascend910b4", "ascend310p3", "h20", "cpu"],
}
CASES = [
    (backend, arch, impl, framework)
    for backend, archs in ARCHS_TRIED.items()
    for arch, impl, framework in itertools.product(
        archs, ("triton", "swft"), ("torch", "numpy", "mindspore")
    )
]
HAS_CUDA = torch.cuda.is_available()
HAS_TORCH_NPU = importlib.util.find_spec("torch_npu") is not None
HAS_SWFT = importlib.util.find_spec("swft") is not None


def expected_rejection(backend: str, arch: str | None, impl: str, framework: str) -> list[str]:
    """What the one-line message must say, in the order the checks run; [] when accepted."""
    if arch is not None and arch not in KNOWN[backend].split(", "):
        return [
            f"arch {arch!r} is not known for backend {backend!r}",
            f"use one of {KNOWN[backend]}",
        ]
    if impl == "swft" and backend != "ascend":
        return ["impl_type 'swft' needs backend 'ascend'", "--impl-type triton"]
    if framework == "mindspore" and not HAS_MINDSPORE:
        return ["framework 'mindspore' needs MindSpore", "pip install 'aikg[mindspore]'"]
    if backend == "ascend" and not HAS_TORCH_NPU:
        needs = "swft" if impl == "swft" else "Triton for Ascend (triton-ascend)"
        return ["backend 'ascend'", "needs torch_npu", needs, "--backend cpu"]
    if backend == "ascend" and impl == "swft" and not HAS_SWFT:
        return ["backend 'ascend'", "needs swft"]
    if backend == "cuda" and not HAS_CUDA:
        return ["backend 'cuda' but no CUDA device is visible", "--backend cpu"]
    return []


@pytest.fixture
async def empty_store(tmp_path: Path) -> Path:
    """A real, initialised store file with no events in it."""
    db = tmp_path / "events.db"
    await (await EventStore.open(db)).close()
    assert db.exists() and event_count(db) == 0
    return db


@pytest.mark.parametrize(("backend", "arch", "impl", "framework"), CASES, ids=str)
async def test_combination_through_the_task_api(
    empty_store: Path, backend: str, arch: str | None, impl: str, framework: str
) -> None:
    config = load_config(overrides={"db": str(empty_store)})
    source = TASK_FILES[framework].read_text()
    needles = expected_rejection(backend, arch, impl, framework)

    def make() -> Task:
        return Task(
            "op",
            source,
            backend=backend,
            arch=arch,
            impl_type=impl,
            framework=framework,
            config=config,
        )

    if not needles:
        task = make()
        assert task.arch == arch if arch else task.arch in KNOWN[backend].split(", ")
        assert event_count(empty_store) == 0  # constructing records nothing either
        return
    with pytest.raises(TaskSpecError) as caught:
        make()
    message = str(caught.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    assert event_count(empty_store) == 0


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (["--backend", "cuda"], ["no CUDA device is visible", "--backend cpu"]),
        (
            ["--backend", "cuda", "--arch", "ascend910b4"],
            ["'ascend910b4' is not known for backend 'cuda'", CUDA_ARCHS],
        ),
        (["--backend", "ascend"], ["torch_npu", "triton-ascend", "--backend cpu"]),
        (
            ["--backend", "ascend", "--arch", "h100"],
            ["'h100' is not known for backend 'ascend'", ASCEND_ARCHS],
        ),
        (
            ["--arch", "ascend310p3"],
            ["arch 'ascend310p3' is not known for backend 'cpu'", "use one of cpu"],
        ),
        (["--impl-type", "swft"], ["impl_type 'swft' needs backend 'ascend'"]),
        (["--framework", "tensorflow"], ["framework 'tensorflow'", "torch, numpy, mindspore"]),
    ],
    ids=str,
)
def test_rejected_through_aikg_run(tmp_path: Path, flags: list[str], needles: list[str]) -> None:
    if "--backend" in flags and "cuda" in flags and HAS_CUDA and "--arch" not in flags:
        pytest.skip("a CUDA device is visible here")
    db = tmp_path / "events.db"
    proc = aikg(["run", str(TASK_FILES["torch"]), *flags], tmp_path, db)
    one_line_error(proc, *needles)
    assert not db.exists()


def test_mindspore_missing_is_one_line(tmp_path: Path) -> None:
    """In a Python without MindSpore (whether or not this venv has it)."""
    db = tmp_path / "events.db"
    args = ["run", str(TASK_FILES["mindspore"]), "--framework", "mindspore"]
    proc = aikg(args, tmp_path, db, prelude=WITHOUT_MINDSPORE)
    one_line_error(proc, "framework 'mindspore' needs MindSpore", "pip install 'aikg[mindspore]'")
    assert not db.exists()


@pytest.mark.parametrize(
    "flags",
    [
        ["--backend", "ascend", "--impl-type", "swft"],
        ["--backend", "ascend", "--arch", "ascend910b2", "--impl-type", "swft"],
        ["--backend", "cpu", "--impl-type", "swft"],
    ],
    ids=" ".join,
)
def test_swft_stops_before_any_llm_request(
    tmp_path: Path, empty_store: Path, flags: list[str]
) -> None:
    with ScriptedOpenAIServer([Step.reply("never asked")] * 4) as server:
        proc = aikg(
            ["run", str(TASK_FILES["torch"]), *flags, *llm_flags(server.base_url)],
            tmp_path,
            empty_store,
        )
        requests = server.requests
    one_line_error(proc, "swft")
    assert requests == []
    assert event_count(empty_store) == 0


@pytest.mark.parametrize(
    ("source", "framework", "needles"),
    [
        ("numpy", "torch", ["imports numpy but not torch", "--framework numpy"]),
        ("torch", "numpy", ["Model is a torch nn.Module", "--framework torch"]),
        ("torch", "mindspore", ["does not import mindspore", "nn.Cell"]),
        ("numpy", "mindspore", ["does not import mindspore", "nn.Cell"]),
        ("mindspore", "torch", ["imports mindspore", "--framework mindspore"]),
        ("mindspore", "numpy", ["imports mindspore", "--framework mindspore"]),
    ],
    ids=str,
)
async def test_task_file_written_for_another_framework(
    empty_store: Path, source: str, framework: str, needles: list[str]
) -> None:
    if framework == "mindspore" and not HAS_MINDSPORE:
        needles = ["pip install 'aikg[mindspore]'"]  # that check comes first
    config = load_config(overrides={"db": str(empty_store)})
    with pytest.raises(TaskSpecError) as caught:
        Task("op", TASK_FILES[source].read_text(), framework=framework, config=config)
    for needle in needles:
        assert needle in str(caught.value), str(caught.value)
    assert event_count(empty_store) == 0


def test_numpy_task_without_framework_flag_is_run_as_numpy(tmp_path: Path) -> None:
    """No --framework: the task file's imports and Model's base say NumPy (read, not run)."""
    db = tmp_path / "events.db"
    proc = aikg(["run", str(TASK_FILES["numpy"]), "--json"], tmp_path, db)
    assert proc.returncode == 0, proc.stderr
    assert '"framework": "numpy"' in proc.stdout.replace("'", '"'), proc.stdout
