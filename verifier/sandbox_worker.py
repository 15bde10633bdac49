"""The verifier worker's confinement at start-up, before it imports torch or any candidate.

The parent names the mode in ``AIKG_VERIFY_SANDBOX`` (auto | landlock | off); the worker's
private folder is the ``aikg-worker-*`` folder above its working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from verifier import gpu_facts, seccomp
from verifier.process import DEVICE_ENV
from verifier.sandbox import SOCKETS_AFTER_CUDA, SandboxReport, confine
from verifier.sandbox_paths import prepare_environment, worker_policy
from verifier.sandbox_watch import SandboxWatch

SANDBOX_ENV = "AIKG_VERIFY_SANDBOX"
WORKER_FOLDER_PREFIX = "aikg-worker-"


def scratch_folder(workdir: Path) -> Path:
    """The worker's private folder: the ``aikg-worker-*`` folder that holds ``workdir``."""
    return workdir.parent if workdir.parent.name.startswith(WORKER_FOLDER_PREFIX) else workdir


def confine_worker(workdir: Path) -> tuple[SandboxReport, SandboxWatch]:
    """Moves caches into the private folder and confines this process; the watch names
    what a candidate tries that the sandbox denies (a no-op watch when not confined)."""
    scratch = scratch_folder(workdir)
    gpu = os.environ.get("TRITON_INTERPRET") != "1"
    if gpu and os.environ.get(DEVICE_ENV, "").startswith("cuda"):
        gpu_facts.remember_before_confining()  # inductor's nvidia-smi query, asked now
    prepare_environment(scratch, gpu)
    policy = worker_policy(scratch, os.environ.get(SANDBOX_ENV, "auto"), gpu)
    report = confine(policy)
    return report, SandboxWatch(policy if report.confined else None)


def close_sockets_once_cuda_is_up(report: SandboxReport) -> None:
    """On a GPU, after torch is imported and before any candidate: starts CUDA on the
    worker's device (the driver opens its unix socket then), then closes every socket for
    good. A confined GPU worker that cannot do so stops here (no candidate runs half-walled).
    Also answers inductor's GPU clock query from what was asked before confining."""
    gpu_facts.answer_inductor()
    device = os.environ.get(DEVICE_ENV, "")
    if not device.startswith("cuda") or SOCKETS_AFTER_CUDA not in report.enforced:
        return
    import torch

    torch.empty(1, device=device)  # a context on this device: the driver is fully up
    torch.cuda.synchronize(device)
    seccomp.close_sockets()
