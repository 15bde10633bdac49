"""Pulling code, designs and Conductor decisions out of model replies. Pure functions.

Models wrap code in fenced blocks with or without a language label, put prose around it,
answer in JSON, think aloud in `<think>` tags, split the kernel and the module into two
blocks, or answer in CUDA. `extract_code` copes with all of these and raises `NoCode` with
a message the next prompt can quote when there is nothing usable.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from agents.types import NoCode

PYTHON_LABELS = frozenset({"python", "py", "python3", "triton", "swft"})
FOREIGN_LABELS = frozenset(
    {
        "cuda",
        "cu",
        "c",
        "cpp",
        "c++",
        "cxx",
        "h",
        "hpp",
        "hip",
        "rust",
        "ptx",
        "asm",
        "java",
        "go",
        "ascendc",
        "mlir",
        "llvm",
        "opencl",
        "metal",
        "javascript",
        "js",
        "julia",
    }
)
_FOREIGN_HINTS = ("__global__", "#include", "__device__", "threadIdx", "blockIdx.x", "std::")
_ACTIONS = ("fix_code", "fix_design")

_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<label>[\w+#.-]*)[^\n]*\n"
    r"(?P<body>.*?)(?:^[ \t]*(?P=fence)[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_CODE_START = re.compile(r"^(import |from \S+ import |@triton|class |def )", re.MULTILINE)

_FIX = "reply with one ```python block holding the whole module that defines class ModelNew"


@dataclass(frozen=True)
class Block:
    label: str  # lower-cased language label, "" when none
    body: str
    closed: bool  # False when the reply ended inside the block (cut off at max_tokens)


def strip_thinking(text: str) -> str:
    """Drop `<think>…</think>` sections that reasoning models put before the answer."""
    return _THINK.sub("", text).strip()


def fenced_blocks(text: str) -> list[Block]:
    blocks = []
    for match in _FENCE.finditer(text):
        body = match.group("body")
        closed = match.group(0).rstrip().endswith(match.group("fence"))
        blocks.append(Block(match.group("label").lower(), body.rstrip("\n") + "\n", closed))
    return blocks


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _defines_class(tree: ast.Module, name: str) -> bool:
    return any(isinstance(node, ast.ClassDef) and node.name == name for node in tree.body)


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _used_names(tree: ast.Module) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _looks_foreign(block: Block) -> bool:
    if block.label in FOREIGN_LABELS:
        return True
    return not block.label and any(hint in block.body for hint in _FOREIGN_HINTS)


def _json_field(text: str, field: str) -> str | None:
    """The string `field` of a JSON object that is the reply or its ```json block."""
    candidates = [text.strip()]
    candidates += [b.body for b in fenced_blocks(text) if b.label in ("json", "")]
    for candidate in candidates:
        if not candidate.startswith("{"):
            continue
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get(field), str):
            return data[field]
    return None


def _bare_code(text: str) -> str | None:
    """Code written without fences: from the first code-looking line to where it still parses."""
    start = _CODE_START.search(text)
    if start is None:
        return None
    lines = text[start.start() :].splitlines()
    for end in range(len(lines), 0, -1):
        source = "\n".join(lines[:end]) + "\n"
        if _parse(source) is not None:
            return source
    return None


def extract_code(text: str, class_name: str = "ModelNew") -> str:
    """The Python module in a reply. Raises `NoCode` saying what was wrong."""
    text = strip_thinking(text)
    if not text:
        raise NoCode(f"the reply was empty; {_FIX}")
    from_json = _json_field(text, "code")
    if from_json is not None:
        return extract_code(from_json, class_name)

    blocks = fenced_blocks(text)
    python = [
        b for b in blocks if b.label in PYTHON_LABELS or (not b.label and not _looks_foreign(b))
    ]
    foreign = [b for b in blocks if _looks_foreign(b)]
    if not python:
        if foreign:
            label = foreign[0].label or "C/C++/CUDA"
            raise NoCode(
                f"the reply's code is {label}, not Python; write Triton kernels and {_FIX}"
            )
        bare = _bare_code(text)
        if bare is None or not _defines_class(ast.parse(bare), class_name):
            raise NoCode(f"the reply held no code block; {_FIX}")
        return bare

    parsed = [(b, _parse(b.body)) for b in python]
    good = [(b, tree) for b, tree in parsed if tree is not None]
    with_class = [(b, tree) for b, tree in good if _defines_class(tree, class_name)]
    if not with_class:
        broken = [b for b, tree in parsed if tree is None]
        if broken and not broken[-1].closed:
            raise NoCode(f"the reply was cut off inside its code block; {_FIX}, shorter")
        if broken:
            raise NoCode(f"the code block is not valid Python: {_syntax_error(broken[-1].body)}")
        raise NoCode(f"the code defines no class {class_name}; {_FIX}")

    chosen, tree = with_class[-1]
    missing = _used_names(tree) - _top_level_names(tree)
    helpers = [
        b.body
        for b, other in good
        if b is not chosen
        and not _defines_class(other, class_name)
        and _top_level_names(other) & missing
    ]
    return "\n\n".join([*helpers, chosen.body]) if helpers else chosen.body


def _syntax_error(source: str) -> str:
    try:
        ast.parse(source)
    except SyntaxError as err:
        return f"{err.msg} at line {err.lineno}"
    return "unparseable"


def extract_design(text: str) -> str:
    """The design sketch in a reply: the prose, minus thinking and a JSON wrapper."""
    text = strip_thinking(text)
    from_json = _json_field(text, "design")
    if from_json is not None:
        text = from_json.strip()
    if not text:
        raise NoCode("the design reply was empty; describe the algorithm in a few paragraphs")
    return text


def parse_decision(text: str) -> tuple[str, str]:
    """The Conductor's `{"action": ..., "reason": ...}`; raises ValueError when unreadable."""
    text = strip_thinking(text)
    action = _json_field(text, "action")
    if action is not None:
        action = action.strip().lower()
        if action not in _ACTIONS:
            raise ValueError(f"action {action!r} is not one of {', '.join(_ACTIONS)}")
        reason = (_json_field(text, "reason") or "").strip()
        return action, reason or "no reason given"
    found = [a for a in _ACTIONS if a in text.lower()]
    if len(found) != 1:
        raise ValueError("the reply names neither fix_code nor fix_design exactly once")
    return found[0], " ".join(text.split())[:500]
