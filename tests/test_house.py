"""House rules a newcomer relies on, checked over the source: import a name from the module
that defines it (no re-exports, nothing from tests/conftest.py), and keep modules small."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("cli.py", "commands", "poller", "store", "sync", "tests", "bench", "tools")


def _files() -> list[Path]:
    found: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
    return found


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(names the module defines at any level, names it imports from elsewhere)"""
    defined: set[str] = set()
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            imported.update(a.asname or a.name for a in node.names)
    return defined, imported


TREES = {_module(p): (p, ast.parse(p.read_text(), str(p))) for p in _files()}
NAMES = {module: _names(tree) for module, (_, tree) in TREES.items()}


def test_nothing_imports_conftest():
    offenders = [f"{path.relative_to(ROOT)}:{node.lineno}"
                 for path, tree in TREES.values() for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module == "tests.conftest"]
    assert offenders == [], "import from tests/world.py or tests/builders.py instead"


def test_every_name_is_imported_from_where_it_is_defined():
    offenders = []
    for path, tree in TREES.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.module not in NAMES:
                continue
            defined, imported = NAMES[node.module]
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}" in TREES
                if alias.name in imported and alias.name not in defined and not submodule:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name} "
                                     f"from {node.module}, which only imports it")
    assert offenders == []
