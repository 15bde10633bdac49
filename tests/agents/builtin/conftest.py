"""Run Triton in its interpreter here (set before triton is imported).

Set AIKG_BUILTIN_DEVICE=cuda to run the same tests on a GPU with compiled kernels.
"""

from __future__ import annotations

import os

if os.environ.get("AIKG_BUILTIN_DEVICE", "cpu") == "cpu":
    os.environ["TRITON_INTERPRET"] = "1"
