"""What the prompts draw on besides the task: verified kernels of similar operators and skills.

Similarity is between the *operations a reference names*: the multiset of the calls and
arithmetic operators in its `forward` (`torch.matmul(a, b) + bias` gives {matmul: 1, add: 1}),
read with `ast` (nothing runs). Two references compare by the multiset Jaccard index: the
sum of the smaller counts over the sum of the larger ones, 1.0 for the same operations in the
same numbers, 0.0 for nothing in common. Skills are short hand-written Markdown notes in
`configs/skills/` whose front matter lists tags; a skill is chosen when its tags meet the
reference's operations (or `profile` for a profile-mode task): the highest `priority` first,
then the one with the most tags matched.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from agents.types import AgentRequest

_OPERATORS: dict[type, str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.FloorDiv: "floordiv",
    ast.Mod: "remainder",
    ast.Pow: "pow",
    ast.MatMult: "matmul",
    ast.USub: "neg",
}
# Calls that name no operation of the kernel: shape queries, construction, conversions.
_NOT_OPERATIONS = frozenset(
    {"super", "size", "dim", "numel", "shape", "float", "half", "to", "type", "len", "range"}
)


def op_tokens(source: str) -> Counter[str]:
    """The multiset of operations in the reference's `forward` (the whole module if none).

    A call of a submodule made in `__init__` (`self.fc = nn.Linear(...)`, then `self.fc(x)`)
    counts as its class (`linear`)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return Counter()
    modules = _submodule_classes(tree)
    forwards = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "forward"
    ]
    tokens: Counter[str] = Counter()
    for root in forwards or [tree]:
        for node in ast.walk(root):
            tokens.update(_tokens_of(node, modules))
    return tokens


def _submodule_classes(tree: ast.AST) -> dict[str, str]:
    """`self.NAME = Class(...)` assignments: NAME -> the class's name."""
    found = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        made = _called_name(node.value)
        for target in node.targets:
            if isinstance(target, ast.Attribute) and made:
                found[target.attr] = made
    return found


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _tokens_of(node: ast.AST, modules: dict[str, str]) -> list[str]:
    if isinstance(node, ast.Call):
        name = _called_name(node)
        name = modules.get(name, name) if name else None
        if name and name not in _NOT_OPERATIONS:
            return [name.lower().removesuffix("_")]
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return []  # a negative literal (dim=-1), not an operation
    if isinstance(node, ast.BinOp | ast.AugAssign | ast.UnaryOp) and type(node.op) in _OPERATORS:
        return [_OPERATORS[type(node.op)]]
    return []


def similarity(a: Counter[str], b: Counter[str]) -> float:
    """Multiset Jaccard: sum of the smaller counts over the sum of the larger ones."""
    larger = sum((a | b).values())
    return sum((a & b).values()) / larger if larger else 0.0


@dataclass(frozen=True)
class KnownKernel:
    """A verified kernel in the event log, with the reference it was verified against."""

    task_id: str
    op_name: str
    reference_source: str
    code: str
    summary: str  # what the log says of it, e.g. "verified, 1.31x vs torch.compile"


@dataclass(frozen=True)
class Skill:
    """One hand-written note from `configs/skills/` (or a user folder)."""

    name: str
    title: str
    tags: frozenset[str]
    text: str
    priority: int = 1  # among the skills that match, higher comes first


@dataclass(frozen=True)
class Knowledge:
    """The skills library and the verified kernels one run may show its agents."""

    skills: tuple[Skill, ...] = ()
    kernels: tuple[KnownKernel, ...] = ()
    top_kernels: int = 2
    top_skills: int = 2
    min_similarity: float = 0.3

    def context(self, request: AgentRequest) -> dict[str, Any]:
        """The template variables: `skills` and `known_kernels` ((similarity, kernel) pairs)."""
        wanted = op_tokens(request.reference_source)
        return {
            "skills": self.skills_for(wanted, request.task_type),
            "known_kernels": self.kernels_like(wanted),
        }

    def skills_for(self, wanted: Counter[str], task_type: str) -> list[Skill]:
        terms = set(wanted) | ({"profile"} if task_type == "profile" else set())
        matching = [s for s in self.skills if s.tags & terms]
        matching.sort(key=lambda s: (-s.priority, -len(s.tags & terms), s.name))
        return matching[: self.top_skills]

    def kernels_like(self, wanted: Counter[str]) -> list[tuple[float, KnownKernel]]:
        """The most similar kernels, each code once (a task run again verifies the same)."""
        scored = []
        for kernel in self.kernels:
            score = similarity(wanted, op_tokens(kernel.reference_source))
            if score >= self.min_similarity:
                scored.append((round(score, 2), kernel))
        scored.sort(key=lambda item: (-item[0], item[1].task_id))
        chosen: list[tuple[float, KnownKernel]] = []
        for score, kernel in scored:
            if len(chosen) < self.top_kernels and all(kernel.code != k.code for _, k in chosen):
                chosen.append((score, kernel))
        return chosen


def parse_skill(name: str, text: str) -> Skill:
    """A skill file: YAML front matter (`title`, `tags`, `priority`) between `---` lines,
    then Markdown."""
    head, sep, body = text.removeprefix("---\n").partition("\n---\n")
    try:
        meta = yaml.safe_load(head) if sep and text.startswith("---\n") else None
    except yaml.YAMLError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("tags"), list):
        raise ValueError(
            f"skill {name}: start it with front matter: ---, title: ..., tags: [op, ...], ---"
        )
    tags = frozenset(str(tag).lower() for tag in meta["tags"])
    priority = meta.get("priority", 1)
    if not isinstance(priority, int):
        raise ValueError(f"skill {name}: priority must be a whole number, got {priority!r}")
    return Skill(name, str(meta.get("title") or name), tags, body.strip(), priority)


def load_skills(user_dir: str | Path | None = None) -> tuple[Skill, ...]:
    """The skills shipped in `configs/skills/` (package data, read through importlib, so a
    wheel install has them), then the `.md` files of `user_dir`: one named as a shipped skill
    replaces it. Sorted by name; a ValueError names a missing folder or a broken file."""
    texts = {
        entry.name: entry.read_text()
        for entry in resources.files("configs.skills").iterdir()
        if entry.name.endswith(".md")
    }
    if user_dir is not None:
        folder = Path(user_dir).expanduser()
        if not folder.is_dir():
            raise ValueError(
                f"skills folder {folder} does not exist; create it or drop "
                "agents.knowledge.skills_dir"
            )
        texts.update({path.name: path.read_text() for path in folder.glob("*.md")})
    return tuple(parse_skill(name.removesuffix(".md"), texts[name]) for name in sorted(texts))
