"""The builtin agent: lowers torch references to fused Triton kernels without an LLM."""

from __future__ import annotations

from agents.builtin.provider import BuiltinProvider

__all__ = ["BuiltinProvider"]
