"""`aikg pack`: several op modules as one installable package (docs/export.md).

DIR/pyproject.toml        setuptools, the package and its version
DIR/NAME/__init__.py      imports every op module, so `import NAME` registers them all
DIR/NAME/<op>.py          one op module per task (writer.py)
"""

from __future__ import annotations

import re
from pathlib import Path

from aikg.commands import UsageError

PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.1.0"
description = "Verified Triton kernels as PyTorch custom ops, packed by aikg"
requires-python = ">=3.10"
dependencies = ["torch", "triton"]

[tool.setuptools]
packages = ["{package}"]
"""


def package_name(directory: Path, name: str | None) -> str:
    """The import name: --name, else the folder's name; a one-line error if not a name."""
    chosen = name or directory.resolve().name
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", chosen):
        raise UsageError(
            f"{chosen!r} is not an importable package name: pass --name NAME "
            "(letters, digits, underscores; not starting with a digit)"
        )
    return chosen


def write_package(directory: Path, package: str, modules: dict[str, str]) -> list[Path]:
    """Write `modules` (file stem -> op module source) as package `package` in `directory`."""
    folder = directory / package
    folder.mkdir(parents=True, exist_ok=True)
    written = [directory / "pyproject.toml", folder / "__init__.py"]
    written[0].write_text(PYPROJECT.format(distribution=package.replace("_", "-"), package=package))
    imports = "".join(f"from {package} import {stem}\n" for stem in sorted(modules))
    names = ", ".join(f'"{stem}"' for stem in sorted(modules))
    written[1].write_text(
        f'"""Verified kernels as PyTorch custom ops, packed by aikg: importing this '
        f'registers them."""\n\n{imports}\n__all__ = [{names}]\n'
    )
    for stem, source in modules.items():
        path = folder / f"{stem}.py"
        path.write_text(source)
        written.append(path)
    return written
