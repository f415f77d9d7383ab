"""House rules a newcomer relies on, checked over the source: import a name from the module
that defines it (no re-exports, nothing from tests/conftest.py); the layers (`cli.py`,
`commands/` and `web/` › `sync/`, `poller/` › `store/` › `core/`) and poller's stages, with no
import reaching up and no circle; no crowded folder, no long module, no long function."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("cli.py", "commands", "web", "poller", "store", "sync", "core", "tests", "bench",
           "tools")


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


# --- The layers (README, "Where things live"): an import never reaches up, never circles ---------

# Top to bottom; a module may import from its own layer or any below it.
LAYERS = {"cli": 4, "commands": 3, "web": 3, "sync": 2, "poller": 2, "store": 1, "core": 0}
# poller/'s stages in the order a message goes through them; each imports only from its own
# stage or those before it.
STAGES = ("net", "imap", "mail", "understand", "notify", "decide", "passes", "failed")
PRODUCT = {m: p for m, (p, _) in TREES.items() if m.split(".")[0] in LAYERS}
MAX_MODULES_PER_FOLDER = 20
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


def _imports(module: str) -> set[str]:
    """The product modules `module` imports, at its top, inside functions or for type checking
    alike: each one is a dependency a reader must follow."""
    found: set[str] = set()
    for node in ast.walk(TREES[module][1]):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in PRODUCT else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in PRODUCT and name != module}


GRAPH = {module: _imports(module) for module in PRODUCT}


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def _stage(module: str) -> int | None:
    parts = module.split(".")
    in_a_stage = parts[0] == "poller" and len(parts) > 2 and parts[1] in STAGES
    return STAGES.index(parts[1]) if in_a_stage else None


def test_every_top_level_package_has_a_layer():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages - {"tests", "tools"} <= set(LAYERS)


def test_no_import_reaches_up_a_layer():
    upward = [f"{m} -> {d}" for m, deps in GRAPH.items() for d in deps if _layer(d) > _layer(m)]
    assert upward == []


def test_poller_stages_import_only_from_the_stages_below():
    upward = [f"{m} -> {d}" for m, deps in GRAPH.items() for d in deps
              if _stage(m) is not None and _stage(d) is not None and _stage(d) > _stage(m)]
    assert upward == []


def test_every_poller_module_sits_in_a_stage():
    modules = [m for m, p in PRODUCT.items() if m.startswith("poller.") and p.name != "__init__.py"]
    assert [m for m in modules if _stage(m) is None] == []


def _circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for dep in sorted(GRAPH[module]):
            if dep not in index:
                visit(dep)
                low[module] = min(low[module], low[dep])
            elif dep in stack:
                low[module] = min(low[module], index[dep])
        if low[module] == index[module]:
            group = stack[stack.index(module):]
            del stack[stack.index(module):]
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circles():
    assert _circles() == []


def test_the_circle_finder_finds_a_circle():
    GRAPH["core.utc"].add("core.errors")
    GRAPH["core.errors"].add("core.utc")
    try:
        assert ["core.errors", "core.utc"] in _circles()
    finally:
        GRAPH["core.utc"].discard("core.errors")
        GRAPH["core.errors"].discard("core.utc")


def test_no_folder_holds_more_than_20_modules():
    counts: dict[Path, int] = {}
    for path in PRODUCT.values():
        if path.name != "__init__.py":
            counts[path.parent] = counts.get(path.parent, 0) + 1
    crowded = {str(d.relative_to(ROOT)): n for d, n in counts.items() if n > MAX_MODULES_PER_FOLDER}
    assert crowded == {}


def test_modules_are_at_most_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in PRODUCT.values()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_functions_are_at_most_40_lines():
    long = [f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)"
            for module, p in PRODUCT.items() for node in ast.walk(TREES[module][1])
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (size := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES]
    assert long == []
