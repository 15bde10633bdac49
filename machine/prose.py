"""Prose task descriptions: telling them from task files, and writing their reference.

With an LLM Designer (provider openai) its model writes the reference from the prose; with
any other Designer the formula form (machine/formula.py) writes it offline. Either way the
result is a `reference.proposed` event whose source is checked like any task file.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from machine import events as ev
from machine.formula import parse_formula
from machine.reference_writer import write_reference
from machine.spec import TaskSpecError, check_task_source

if TYPE_CHECKING:
    from machine.config import Config

_PYTHON_LINE = re.compile(r"^(import |from \S+ import |class |def |@)", re.MULTILINE)


def is_prose(text: str) -> bool:
    """True unless `text` reads as Python with at least one import, def, class or assignment.

    A Python file with a syntax error is still Python (its error is reported as such)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return _PYTHON_LINE.search(text) is None
    statements = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef, ast.Assign)
    return not any(isinstance(node, statements) for node in tree.body)


def written_by_llm(config: Config) -> bool:
    return config.agents.designer.provider == "openai"


def formula_reference(prose: str, config: Config) -> ev.ReferenceProposed:
    """The reference the formula form writes from `prose` with the config's values."""
    formula = parse_formula(
        prose, params=frozenset(config.params), inputs=frozenset(config.shapes) | set(config.dtypes)
    )
    written = write_reference(formula, prose, config.params, config.shapes, config.dtypes)
    return ev.ReferenceProposed(
        written_by="formula",
        prose=prose,
        source=written.source,
        inputs=written.inputs,
        parameters=written.parameters,
        defaulted=list(written.defaulted),
    )


async def llm_reference(
    prose: str, op_name: str, backend: str, framework: str, config: Config
) -> ev.ReferenceProposed:
    """The reference the Designer's model writes from `prose` (one call, not retried)."""
    from agents.llm.client import LLMCallFailed, LLMUnavailable, OpenAIChat
    from agents.llm.prompts import PromptLibrary
    from agents.llm.reference import ReferenceRequest, write_reference
    from agents.llm.sink import NullSink
    from agents.types import NoCode
    from machine.runner import check_api_keys

    check_api_keys(config)
    settings = config.agents.designer
    request = ReferenceRequest(
        op_name, prose, backend, dict(config.params), dict(config.shapes), dict(config.dtypes)
    )
    chat = OpenAIChat(settings, NullSink())
    try:
        source, _reply = await write_reference(chat, PromptLibrary(config.prompt_dir), request)
    except LLMUnavailable:
        raise  # an outage: nothing is recorded yet, the same command can be run again
    except LLMCallFailed as exc:  # an error retrying cannot fix (a refused key, a bad model)
        raise TaskSpecError(
            f"the Designer's model could not write the reference from the prose: {exc}"
        ) from None
    except NoCode as exc:
        raise TaskSpecError(
            f"the Designer's model ({settings.model}) wrote no reference from the prose: {exc}; "
            "describe the operator more precisely or use the formula form (docs/prose-tasks.md)"
        ) from None
    check_task_source(source, framework, where=f"the reference {settings.model} wrote")
    return ev.ReferenceProposed(written_by="llm", prose=prose, source=source, model=settings.model)


def stated_lines(reference: ev.ReferenceProposed) -> list[str]:
    """What a run says first about a reference written from prose."""
    who = f"the LLM {reference.model}" if reference.written_by == "llm" else "the formula form"
    lines = [f"reference written from prose by {who}:"]
    lines += [f"  input {name}: {text}" for name, text in reference.inputs.items()]
    for name, value in reference.parameters.items():
        default = " (default, stated: pass --param to change it)"
        lines.append(f"  {name} = {value!r}" + (default if name in reference.defaulted else ""))
    return lines
