"""Finding task files in any KernelBench-style folder, filtering and loading them."""

from __future__ import annotations

from pathlib import Path

import pytest

from aikg.bench import SuiteError, discover_tasks, load_task_module, task_init_inputs
from aikg.bench.suite import family_from_name

KERNELBENCH_FILE = """
import torch
from torch import nn


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs():
    return [torch.randn(8, 8)]


def get_init_inputs():
    return []
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_discovers_sorted_files_with_family_by_declaration_name_or_other(tmp_path: Path) -> None:
    write(tmp_path, "19_ReLU.py", KERNELBENCH_FILE)
    write(tmp_path, "2_anything.py", KERNELBENCH_FILE)
    write(tmp_path, "pointwise_relu.py", 'FAMILY = "pointwise"\n' + KERNELBENCH_FILE)
    write(tmp_path, "conv_named.py", 'FAMILY = "norm"\n' + KERNELBENCH_FILE)  # declared wins
    write(tmp_path, "_helpers.py", "")
    write(tmp_path, "notes.txt", "not a task")
    tasks = discover_tasks([tmp_path])
    assert [(t.op_name, t.family) for t in tasks] == [
        ("19_ReLU", "pointwise"),
        ("2_anything", "other"),
        ("conv_named", "norm"),
        ("pointwise_relu", "pointwise"),
    ]


@pytest.mark.parametrize(
    ("stem", "family"),
    [
        ("54_conv_standard_3D__square_input__square_kernel", "convolution"),
        ("41_Max_Pooling_1D", "pooling"),
        ("97_ScaledDotProductAttention", "attention"),
        ("100_HingeLoss", "loss"),
        ("92_cumsum_exclusive", "scan"),
        ("23_Softmax", "norm"),
        ("35_GroupNorm_", "norm"),
        ("4_Matrix_vector_multiplication_", "matmul"),
        ("88_MinGPTNewGelu", "pointwise"),
        ("27_SELU_", "pointwise"),
        ("51_Argmax_over_a_dimension", "reduction"),
        ("47_Sum_reduction_over_a_dimension", "reduction"),
    ],
)
def test_a_file_without_family_is_placed_by_its_name(stem: str, family: str) -> None:
    assert family_from_name(stem) == family


def test_family_is_read_without_running_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "norm_x.py", 'FAMILY = "norm"\nraise SystemExit("ran")\n')
    assert discover_tasks([path])[0].family == "norm"


def test_filter_takes_a_glob_or_a_substring(tmp_path: Path) -> None:
    for name in ("pointwise_relu.py", "pointwise_gelu.py", "norm_softmax.py"):
        write(tmp_path, name, KERNELBENCH_FILE)
    assert [t.op_name for t in discover_tasks([tmp_path], "pointwise_*")] == [
        "pointwise_gelu",
        "pointwise_relu",
    ]
    assert [t.op_name for t in discover_tasks([tmp_path], "soft")] == ["norm_softmax"]


def test_a_prose_file_named_is_a_task_and_a_folder_holds_py_files(tmp_path: Path) -> None:
    write(tmp_path, "relu.py", KERNELBENCH_FILE)
    notes = write(tmp_path, "swish.md", "Swish: x * sigmoid(beta * x)\n")
    assert [t.op_name for t in discover_tasks([tmp_path])] == ["relu"]
    [named] = discover_tasks([notes])
    assert (named.op_name, named.family) == ("swish", "prose")


def test_missing_path_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        SuiteError, match=r"a \.txt/\.md file describing a task in prose, or a folder"
    ):
        discover_tasks([tmp_path / "nope"])


def test_load_rejects_a_file_without_the_kernelbench_functions(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.py", "class Model:\n    pass\n")
    with pytest.raises(SuiteError, match="lacks get_inputs, get_init_inputs"):
        load_task_module(path)


def test_small_init_inputs_fall_back_to_the_defaults(tmp_path: Path) -> None:
    module = load_task_module(write(tmp_path, "relu.py", KERNELBENCH_FILE))
    assert task_init_inputs(module, small=True) == []


def test_without_paths_bench_takes_the_repository_suite_or_says_what_to_give(
    tmp_path: Path,
) -> None:
    """A pip install carries no benchmarks/suite: no paths then is a one-line usage error."""
    from aikg.commands import UsageError
    from aikg.commands.bench import DEFAULT_SUITE, suite_paths

    assert suite_paths([]) == [DEFAULT_SUITE]
    assert suite_paths(["a.py"]) == ["a.py"]
    with pytest.raises(UsageError, match="give a folder of task files"):
        suite_paths([], default=tmp_path / "absent")
