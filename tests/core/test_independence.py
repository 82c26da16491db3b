"""The core imports no web framework and no ORM (STYLE lesson 4)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import paced.core

CORE = Path(paced.core.__file__).parent
FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    "jinja2",
    "paced.web",
    "paced.storage",
    "paced.settings",
    "paced.cli",
    "os",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_no_framework_orm_or_environment(path: Path) -> None:
    offending = {
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offending, f"{path.name} imports {sorted(offending)}"
