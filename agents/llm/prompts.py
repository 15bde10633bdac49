"""Rendering the chat messages for each role from Jinja2 templates.

Templates live in `configs/prompts/` (package data, read through importlib, so a wheel
install finds them); a user directory, when given, is searched first, so
any template (a whole prompt, the output contract, one hardware sheet) can be replaced by
dropping a file of the same name there.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jinja2

from agents.llm.knowledge import Knowledge
from agents.types import AgentError, AgentRequest

BUILTIN_TEMPLATES = ("configs", "prompts")  # package data, read with importlib (also a wheel)

Message = dict[str, str]


class PromptError(AgentError):
    """A prompt directory or template is missing or broken."""

    reason = "prompt_error"


def candidate_time_ms(feedback: dict[str, Any] | None) -> float | None:
    """The median time the verifier measured for the candidate the feedback is about."""
    timings = (feedback or {}).get("timings") or {}
    candidate = timings.get("candidate") if isinstance(timings, dict) else None
    median = candidate.get("median_ms") if isinstance(candidate, dict) else None
    return float(median) if isinstance(median, int | float) and median > 0 else None


class PromptLibrary:
    """Renders `[system, user]` messages for the designer, coder and conductor."""

    def __init__(self, user_dir: str | Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader(*BUILTIN_TEMPLATES)]
        self.places = ["/".join(BUILTIN_TEMPLATES) + " (package data)"]
        if user_dir is not None:
            user = Path(user_dir).expanduser()
            if not user.is_dir():
                raise PromptError(
                    f"prompt directory {user} does not exist; "
                    "create it or drop the prompt_dir setting"
                )
            loaders.insert(0, jinja2.FileSystemLoader(str(user)))
            self.places.insert(0, str(user))
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self._names = frozenset(self._env.list_templates(extensions=["j2"]))

    def hardware_template(self, arch: str) -> str:
        """`hardware_<arch>.j2`, else the longest arch prefix that has one, else the generic one."""
        arch = arch.lower()
        for end in range(len(arch), 0, -1):
            name = f"hardware_{arch[:end]}.j2"
            if name in self._names:
                return name
        return "hardware_generic.j2"

    def render(self, name: str, **context: Any) -> str:
        try:
            text = self._env.get_template(name).render(**context)
        except jinja2.TemplateNotFound as err:
            raise PromptError(
                f"prompt template {err.name} not found in {' or '.join(self.places)}"
            ) from err
        except jinja2.TemplateError as err:
            raise PromptError(f"prompt template {name}: {err}") from err
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    def context(self, request: AgentRequest, knowledge: Knowledge | None = None) -> dict[str, Any]:
        data = asdict(request)
        data.update((knowledge or Knowledge()).context(request))
        data["hardware_template"] = self.hardware_template(request.target.arch)
        data["speed_of_light"] = request.speed_of_light  # attributes, as the template reads them
        data["inspirations"] = request.inspirations
        data["parent_time_ms"] = candidate_time_ms(request.feedback)
        return data

    def messages(
        self, role: str, request: AgentRequest, knowledge: Knowledge | None = None
    ) -> list[Message]:
        suffix = "_swft" if role == "coder" and request.target.impl_type == "swft" else ""
        context = self.context(request, knowledge)
        return [
            {"role": "system", "content": self.render(f"system_{role}{suffix}.j2", **context)},
            {"role": "user", "content": self.render(f"{role}{suffix}.j2", **context)},
        ]

    def designer(self, request: AgentRequest, knowledge: Knowledge | None = None) -> list[Message]:
        return self.messages("designer", request, knowledge)

    def coder(self, request: AgentRequest, knowledge: Knowledge | None = None) -> list[Message]:
        return self.messages("coder", request, knowledge)

    def conductor(self, request: AgentRequest) -> list[Message]:
        return self.messages("conductor", request)
