"""Agent providers for machine tests: real Triton kernels that are wrong or that crash.

The machine is what these tests exercise; these providers stand in for an agent that
writes a bad kernel, and their kernels go through the real verifier.
"""

from __future__ import annotations

from agents.types import AgentRequest, Candidate, Design

KERNEL = """
import os

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, out_ptr, n, factor, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x * factor, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        {prelude}
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        scale_kernel[(triton.cdiv(n, 1024),)](x, out, n, 2.0, BLOCK=1024)
        return out
"""


class ScriptedProvider:
    """Returns the same candidate every step; counts its calls."""

    def __init__(self, prelude: str = "pass") -> None:
        self.name = "scripted"
        self.code_calls = 0
        self.design_calls = 0
        self._code = KERNEL.replace("{prelude}", prelude)

    async def design(self, request: AgentRequest) -> Design:
        self.design_calls += 1
        return Design(f"design {request.step}: scale by two")

    async def code(self, request: AgentRequest) -> Candidate:
        self.code_calls += 1
        return Candidate(self._code)


def wrong_kernel() -> ScriptedProvider:
    """Computes 2*x instead of swish: rejected at `mismatch`."""
    return ScriptedProvider()


def segfaulting_kernel() -> ScriptedProvider:
    """Kills its own process with SIGSEGV inside forward."""
    return ScriptedProvider("os.kill(os.getpid(), 11)  # SIGSEGV")


class SequenceProvider:
    """Returns the given candidates in order (the last one again when they run out) and
    keeps every request it was sent."""

    def __init__(self, codes: list[str]) -> None:
        self.name = "sequence"
        self.codes = codes
        self.requests: list[AgentRequest] = []

    async def design(self, request: AgentRequest) -> Design:
        return Design(f"design {request.step}: scale")

    async def code(self, request: AgentRequest) -> Candidate:
        self.requests.append(request)
        return Candidate(self.codes[min(len(self.requests), len(self.codes)) - 1])


def scaling_kernel(factor: float, comment: str = "") -> str:
    """A wrong kernel (x * factor); `comment` is added as a comment line, changing nothing."""
    code = KERNEL.replace("{prelude}", "pass").replace("x * factor", f"x * {factor}")
    return code.replace("\n\n\n@triton.jit", f"\n\n# {comment}\n\n@triton.jit") if comment else code
