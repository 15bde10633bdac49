"""The benchmark suite's discovery and the report built from a benchmark run."""

from __future__ import annotations

from aikg.bench.report import BenchRow, ReportFiles, RunMeta, Summary, summarize, write_report
from aikg.bench.suite import (
    DEFAULT_SUITE_DIR,
    FAMILIES,
    FAMILY_MINIMUMS,
    SuiteError,
    SuiteTask,
    discover_tasks,
    load_task_module,
    task_inputs,
)
from verifier.loading import init_inputs as task_init_inputs  # the verifier's rule, shared

__all__ = [
    "DEFAULT_SUITE_DIR",
    "FAMILIES",
    "FAMILY_MINIMUMS",
    "BenchRow",
    "ReportFiles",
    "RunMeta",
    "SuiteError",
    "SuiteTask",
    "Summary",
    "discover_tasks",
    "load_task_module",
    "summarize",
    "task_init_inputs",
    "task_inputs",
    "write_report",
]
