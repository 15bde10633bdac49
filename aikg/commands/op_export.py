"""`aikg export TASK_ID --as op` and `aikg pack TASK_ID... -o DIR`: verified kernels as
PyTorch custom ops (docs/export.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aikg.commands import EXIT_FAILED, EXIT_OK, UsageError
from aikg.commands.reading import load_task_state
from aikg.export_op.facts import probe_task
from aikg.export_op.package import package_name, write_package
from aikg.export_op.writer import op_module_source, op_names
from aikg.writable import check_writable_dir, check_writable_file
from machine.state import TaskState

OP_DEVICES = {"cpu": "cpu", "cuda": "cuda"}  # backend -> the device type the op checks


class NothingToExport(Exception):
    """The task has no verified kernel: exit 1, as plain `aikg export`."""


def op_source(state: TaskState, namespace: str, strict: bool) -> tuple[str, str]:
    """(the op's function name, the op module's source) for a task's best kernel."""
    spec, best = state.spec, state.best
    assert spec is not None
    if best is None or best.code is None:
        raise NothingToExport(f"task {spec.task_id!r} has no verified kernel to export")
    if spec.framework != "torch":
        raise UsageError(
            f"task {spec.task_id!r} has a {spec.framework} reference: --as op needs a torch "
            "one (export the kernel module with plain `aikg export` instead)"
        )
    device = OP_DEVICES.get(spec.backend)
    if device is None:
        raise UsageError(
            f"task {spec.task_id!r} was verified on {spec.backend}: --as op supports cpu and "
            "cuda tasks (export the kernel module with plain `aikg export` instead)"
        )
    from machine.verify_step import uses_small_shapes  # heavy: only once there is a kernel

    small = uses_small_shapes(spec.backend, spec.config.get("verifier", {}).get("shapes", "auto"))
    facts = probe_task(spec.task_id, spec.task_desc, best.code, small, spec.backend)
    names = op_names(spec.op_name, namespace, best.code)
    return names.function, op_module_source(state, facts, names, strict=strict, device=device)


def check_namespace(namespace: str) -> None:
    if not namespace.isidentifier():
        raise UsageError(
            f"--namespace {namespace!r} is not a valid op namespace: pass letters, digits and "
            "underscores, e.g. --namespace my_ops"
        )


async def export_op(args: argparse.Namespace) -> int:
    if getattr(args, "reference", False):
        raise UsageError(
            "--as op writes the kernel as an op, --reference the task file: pass one of them"
        )
    check_namespace(args.namespace)
    state = await load_task_state(args, args.task_id)
    if args.output:
        check_writable_file(Path(args.output), "-o", "pass -o a path in a writable directory")
    try:
        _, source = op_source(state, args.namespace, args.strict)
    except NothingToExport as exc:
        print(f"aikg: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not args.output:
        sys.stdout.write(source)
        return EXIT_OK
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(source)
    print(args.output)
    return EXIT_OK


async def cmd_pack(args: argparse.Namespace) -> int:
    check_namespace(args.namespace)
    directory = Path(args.output)
    package = package_name(directory, args.name)
    check_writable_dir(directory, "-o", "pass -o a folder in a writable place")
    states = [await load_task_state(args, task_id) for task_id in dict.fromkeys(args.task_ids)]
    modules: dict[str, str] = {}
    try:
        for state in states:
            function, source = op_source(state, args.namespace, args.strict)
            if function in modules:
                raise UsageError(
                    f"two tasks export an op named {function!r}: pack them into separate "
                    "packages with different --namespace values"
                )
            modules[function] = source
    except NothingToExport as exc:
        print(f"aikg: error: {exc}; nothing was written", file=sys.stderr)
        return EXIT_FAILED
    for path in write_package(directory, package, modules):
        print(path)
    return EXIT_OK
