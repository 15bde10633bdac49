"""What torch.compile asks ``nvidia-smi``, asked once before the worker's sandbox closes.

Inductor's pad-mm pass (``torch/_inductor/fx_passes/pad_mm.py``, through
``utils.get_device_tflops``) asks for the GPU's highest SM clock by running ``nvidia-smi``
(``torch._utils_internal.max_clock_rate``). In the sandbox no program but the compiler
toolchain may run, and ``nvidia-smi`` stays out of it on purpose: run as root it can also
change the GPU's clocks or reset it. So a GPU worker asks before it confines itself and,
once torch is imported, answers inductor from that. On an H200 KernelBench's
8_Matmul_with_irregular_shapes_ compiled its baseline through pad-mm and the sandbox
stopped the honest candidate with ``subprocess.Popen('.../nvidia-smi')``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

MAX_SM_CLOCK_ENV = "AIKG_GPU_MAX_SM_CLOCK_MHZ"
# the query torch makes (through triton.testing.nvsmi): GPU 0's highest SM clock in MHz
QUERY = ["-i", "0", "--query-gpu=clocks.max.sm", "--format=csv,noheader,nounits"]


def ask_max_sm_clock() -> int | None:
    """The clock ``nvidia-smi`` reports, or None where it is missing or fails."""
    program = shutil.which("nvidia-smi")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, *QUERY], capture_output=True, text=True, timeout=30, check=True
        )
        return int(done.stdout.split(",")[0].strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def remember_before_confining() -> None:
    """Asks now (before the sandbox) and keeps the answer in this process's environment."""
    mhz = ask_max_sm_clock()
    if mhz is not None:
        os.environ[MAX_SM_CLOCK_ENV] = str(mhz)


def answer_inductor() -> None:
    """After torch is imported: inductor's clock query returns the remembered answer
    instead of running ``nvidia-smi`` (nothing changes where none was remembered)."""
    value = os.environ.get(MAX_SM_CLOCK_ENV)
    if not value:
        return
    import torch._utils_internal as internal

    mhz = int(value)
    internal.max_clock_rate = lambda: mhz
