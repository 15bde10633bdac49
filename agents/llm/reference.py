"""The Designer's model writing a reference task file from a prose description.

A plain request in, the task file's source (and the reply it came from) out; checking the
file against the KernelBench contract is the caller's job.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, field

from agents.llm.client import ChatBackend, Reply
from agents.llm.parsing import fenced_blocks, strip_thinking
from agents.llm.prompts import Message, PromptLibrary
from agents.types import NoCode


@dataclass(frozen=True)
class ReferenceRequest:
    """What the model is told: the prose and every value the user gave."""

    op_name: str
    prose: str
    backend: str
    params: dict[str, float] = field(default_factory=dict)
    shapes: dict[str, list[int]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)


def reference_messages(prompts: PromptLibrary, request: ReferenceRequest) -> list[Message]:
    context = asdict(request)
    return [
        {"role": "system", "content": prompts.render("system_reference.j2", **context)},
        {"role": "user", "content": prompts.render("reference.j2", **context)},
    ]


def task_file_in(text: str) -> str:
    """The reply's Python block that defines `class Model` (or the reply, if it is one)."""
    text = strip_thinking(text)
    for source in [block.body for block in fenced_blocks(text)] + [text]:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        if any(isinstance(node, ast.ClassDef) and node.name == "Model" for node in tree.body):
            return source
    raise NoCode("the reply holds no Python task file defining class Model")


async def write_reference(
    backend: ChatBackend, prompts: PromptLibrary, request: ReferenceRequest
) -> tuple[str, Reply]:
    """Ask the model for the task file; (its source, the reply)."""
    reply = await backend.complete("designer", reference_messages(prompts, request))
    return task_file_in(reply.text), reply
