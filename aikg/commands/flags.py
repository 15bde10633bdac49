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
        "--llm-request",
        metavar="PRESET",
        help="which fields every call sends: openai (default), openai-reasoning, vllm, sglang, "
        "deepseek, deepseek-reasoner, ollama, minimal (docs/llm.md)",
    )
    llm.add_argument(
        "--from", dest="replay_from", metavar="TASK_ID", help="with --llm replay: serve its replies"
    )


def add_budget_flag(parser: argparse.ArgumentParser) -> None:
    """`--budget-usd X`: the LLM cost budget of a task (run) or of a whole batch (batch, bench)."""
    whole = "the whole batch" if parser.prog.split()[-1] in ("batch", "bench") else "the task"
    parser.add_argument(
        "--budget-usd",
        type=positive_usd,
        metavar="X",
        help=f"most US dollars the LLM calls of {whole} may cost, from the roles' prices; a "
        "call that would go past it is not started and the task ends (docs/llm.md)",
    )


def positive_usd(text: str) -> float:
    return _positive(text, "amount of US dollars", "2.5")


def budget_overrides(args: argparse.Namespace) -> dict[str, float]:
    """The `agents.budget` key `--budget-usd` sets: per task on run, per batch on batch/bench."""
    usd = getattr(args, "budget_usd", None)
    if usd is None:
        return {}
    whole_batch = getattr(args, "command", None) in ("batch", "bench")
    return {"batch_max_usd" if whole_batch else "max_usd": usd}


def add_sandbox_flags(parser: argparse.ArgumentParser) -> None:
    """`--require-sandbox`: refuse to run candidates without the kernel sandbox."""
    parser.add_argument(
        "--require-sandbox",
        action="store_true",
        help="exit 2 unless the verifier's workers are confined by the kernel (Landlock) "
        "instead of carrying on with the static check alone",
    )


def positive_seconds(text: str) -> float:
    return _positive(text, "number of seconds", "60")


def _positive(text: str, what: str, example: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive {what}, e.g. {example}")
    return value


def add_store_flags(parser: argparse.ArgumentParser) -> None:
    """`--busy-timeout SECONDS`: the config's `store.busy_timeout_s` for this command."""
    parser.add_argument(
        "--busy-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="wait this long for another process's write lock on the event log, then stop "
        "the task as interrupted (default: store.busy_timeout_s, 30)",
    )
