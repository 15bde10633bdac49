"""Command-line flags several commands share."""

from __future__ import annotations

import argparse


def add_llm_flags(parser: argparse.ArgumentParser) -> None:
    """`--llm NAME --llm-base-url URL --llm-model NAME --llm-api-key-env VAR --from TASK_ID`."""
    llm = parser.add_argument_group("agents")
    llm.add_argument(
        "--llm",
        metavar="NAME",
        help="provider or preset for every role: builtin (default, no LLM), openai, deepseek, "
        "vllm, sglang, ollama, replay",
    )
    llm.add_argument("--llm-base-url", metavar="URL", help="OpenAI-compatible endpoint")
    llm.add_argument("--llm-model", metavar="NAME", help="model name at that endpoint")
    llm.add_argument(
        "--llm-api-key-env", metavar="VAR", help="environment variable holding the API key"
    )
    llm.add_argument(
        "--from", dest="replay_from", metavar="TASK_ID", help="with --llm replay: serve its replies"
    )
