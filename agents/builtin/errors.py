"""The one-line advice every builtin-agent refusal ends with."""

from __future__ import annotations

LLM_HINT = "configure an LLM provider (e.g. --llm openai) for this operator"
