"""The import rules of ARCHITECTURE.md section 1, checked by parsing every module (lazy imports included)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "runners", "media", "colab")
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, at any depth (relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return imported_names(path.read_text(encoding="utf-8"), package)


def imported_names(source: str, package: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


def _top(name: str) -> str:
    return name.split(".")[0]


def _violations(files: list[Path], allowed: Callable[[str], bool]) -> list[str]:
    found = []
    for path in files:
        for name in sorted(_imports(path)):
            if not allowed(name):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


FORBIDDEN_IN_MEDIA = ("app", "runners", "colab", "tortoise", "redis", "arq", "asyncpg", "pydantic_settings")

RULES = {
    "media imports no app, runners, Tortoise, Redis or settings":
        (lambda: _files("media"), lambda n: not _under(n, *FORBIDDEN_IN_MEDIA)),
    "app.models imports only Tortoise, its own modules and the standard library":
        (lambda: _files("app/models"), lambda n: _under(n, "tortoise", "app.models") or _top(n) in STDLIB),
    "colab imports only torch, numpy, av and the standard library":
        (lambda: _files("colab"), lambda n: _under(n, "torch", "numpy", "av", "colab") or _top(n) in STDLIB),
    "app.graphql never imports runners or media":
        (lambda: _files("app/graphql"), lambda n: not _under(n, "runners", "media")),
    "nothing imports runners except the CLI":
        (lambda: [p for pkg in ("app", "media", "colab") for p in _files(pkg)
                  if not _under(_module_name(p), "app.cli")], lambda n: not _under(n, "runners")),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_import_rule(rule: str) -> None:
    files, allowed = RULES[rule]
    assert _violations(files(), allowed) == []


@pytest.mark.parametrize(("source", "package", "expected"), [
    ("import redis.asyncio", "media", {"redis.asyncio"}),
    ("def f():\n    from tortoise import fields", "media", {"tortoise", "tortoise.fields"}),
    ("from . import types", "media", {"media", "media.types"}),
    ("from ..app import config", "media", {"app", "app.config"}),
    ("from .enums import Role", "app.models", {"app.models.enums", "app.models.enums.Role"}),
])
def test_the_checker_resolves_lazy_and_relative_imports(source: str, package: str, expected: set[str]) -> None:
    assert imported_names(source, package) == expected
