"""Command-line flags the whole-program tests share."""

from __future__ import annotations

KEY_ENV = "AIKG_TEST_KEY"


def llm_flags(base_url: str, model: str = "scripted") -> list[str]:
    """`aikg run` flags that point every role at a scripted server on 127.0.0.1."""
    return [
        "--llm",
        "openai",
        "--llm-base-url",
        base_url,
        "--llm-model",
        model,
        "--llm-api-key-env",
        KEY_ENV,
    ]
