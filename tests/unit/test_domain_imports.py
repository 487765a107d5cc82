"""The domain imports only itself, the standard library and the library's
``eventsourcing.domain`` / ``eventsourcing.utils`` (import-linter cannot name
subpackages of an external package)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED = {"domain", "eventsourcing.domain", "eventsourcing.utils"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or any(
        module == a or module.startswith(a + ".") for a in ALLOWED
    )


def test_every_domain_import_is_allowed():
    offending = {
        f"{path.name}: {module}"
        for path in DOMAIN.rglob("*.py")
        for module in imported_modules(path)
        if not allowed(module)
    }
    assert offending == set()
