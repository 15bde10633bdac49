"""``aikg verify REFERENCE_FILE CANDIDATE_FILE ...``: verify one candidate from the shell.

Exit codes: 0 the candidate passed, 1 it was rejected, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from verifier.op_module import embedded_candidate, is_op_module, other_reference
from verifier.result import VerifyJob, VerifyResult
from verifier.service import Verifier
from verifier.static_check import task_source_problems
from verifier.task_framework import detect_framework


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _BadInput(f"aikg verify: {message} (see aikg verify --help)")


class _BadInput(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aikg verify", description="Verify a Triton candidate against a reference task file."
    )
    parser.add_argument("reference", help="task file defining Model, get_inputs, get_init_inputs")
    parser.add_argument(
        "candidate", help="candidate file defining ModelNew, or an op module (aikg export --as op)"
    )
    parser.add_argument("--backend", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--device", default=None, help="cpu or cuda:N (default: from --backend)")
    parser.add_argument(
        "--framework",
        choices=("torch", "numpy", "mindspore"),
        default=None,
        help="the reference's framework (default: read from the task file)",
    )
    parser.add_argument(
        "--task-type", choices=("precision_only", "profile"), default="precision_only"
    )
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--small", action="store_true", help="use get_small_inputs() if defined")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    return parser


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _BadInput(f"aikg verify: cannot read {what} file {path}: {reason}") from exc


def _job(args: argparse.Namespace) -> VerifyJob:
    reference = _read(args.reference, "reference")
    candidate = _read(args.candidate, "candidate")
    if is_op_module(candidate):  # `aikg export --as op`: check the kernel it carries
        exported_from = other_reference(candidate, reference)
        if exported_from:
            print(
                f"aikg verify: note: {args.candidate} was exported from another reference "
                f"(sha256 {exported_from[:12]}…); checking its kernel against {args.reference}",
                file=sys.stderr,
            )
        try:
            candidate = embedded_candidate(candidate)
        except ValueError as exc:
            raise _BadInput(f"aikg verify: {args.candidate}: {exc}") from exc
    problems = task_source_problems(reference)
    if problems:
        raise _BadInput(
            f"aikg verify: {args.reference} is not a task file ({'; '.join(problems)}); "
            "it needs class Model and get_inputs()"
        )
    device = args.device or ("cuda:0" if args.backend == "cuda" else "cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise _BadInput(f"aikg verify: unknown device {device!r}; use cpu or cuda:N")
    if args.trials < 1 or args.timeout <= 0:
        raise _BadInput("aikg verify: --trials must be >= 1 and --timeout > 0")
    if device.startswith("cuda") and not _cuda_device_visible(device):
        raise _BadInput(
            f"aikg verify: {device} is not a visible CUDA device: use --backend cpu, "
            "or --device cuda:N for a GPU this machine has"
        )
    return VerifyJob(
        reference_source=reference,
        candidate_source=candidate,
        framework=args.framework or detect_framework(reference),
        device=device,
        task_type=args.task_type,
        trials=args.trials,
        timeout_s=args.timeout,
        small_shapes=args.small,
    )


def _cuda_device_visible(device: str) -> bool:
    import torch

    index = device.partition(":")[2] or "0"
    return index.isdigit() and int(index) < torch.cuda.device_count()


async def _verify(job: VerifyJob) -> VerifyResult:
    async with Verifier(mode="oneshot") as verifier:
        return await verifier.verify(job)


def format_result(result: VerifyResult) -> str:
    if result.passed:
        lines = [f"PASSED  {result.message} ({result.duration_s:.1f} s)"]
    else:
        lines = [f"REJECTED at stage {result.stage}: {result.message}"]
        if result.max_abs_err is not None:
            lines.append(
                f"  max abs err {result.max_abs_err:.3g}, max rel err {result.max_rel_err:.3g}, "
                f"{(result.frac_mismatch or 0):.2%} of elements off, first bad index "
                f"{result.first_bad_index}"
            )
    timings = result.timings or {}
    for name in ("candidate", "eager", "compile"):
        t = timings.get(name)
        if t:
            lines.append(
                f"  {name:9s} median {t['median_ms']:.4f} ms "
                f"(p10-p90 spread {t['spread_ms']:.4f} ms)"
            )
    if timings.get("speedup_vs_eager") is not None:
        comp = timings.get("speedup_vs_compile")
        comp_text = f", {comp:.2f}x vs torch.compile" if comp is not None else ""
        lines.append(f"  speedup {timings['speedup_vs_eager']:.2f}x vs eager{comp_text}")
    if timings.get("roofline_fraction") is not None:
        lines.append(f"  {timings['roofline_fraction']:.1%} of measured {timings['roofline']}")
    if timings.get("suspicious"):
        lines.append(f"  SUSPICIOUS: {timings.get('suspicious_reason')}")
    if timings.get("note"):
        lines.append(f"  note: {timings['note']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        job = _job(args)
    except _BadInput as exc:
        print(str(exc), file=sys.stderr)
        return 2
    result = asyncio.run(_verify(job))
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(format_result(result))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
