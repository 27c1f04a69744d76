"""The package's import graph: no module of ``src/panneuro`` imports itself through others.

Read with ``ast`` from the source (nothing is imported), counting every import of a panneuro
module wherever it stands: at the top, inside a function (a deferred import hides a cycle at
import time but not in the design) or under ``TYPE_CHECKING``. ``from panneuro.a import b``
is an edge to ``panneuro.a.b`` when that is a module, else to ``panneuro.a``; a package's
``__init__`` is an edge only when it is named (importing ``panneuro.a.b`` runs ``panneuro.a``'s
``__init__`` first, which may import its own submodules: that is not a cycle).
"""

import ast
from pathlib import Path

from compendium import ROOT

PACKAGE = ROOT / "src" / "panneuro"


def module_names(package: Path) -> dict[str, Path]:
    """Map each module's dotted name to its file (``pkg/__init__.py`` is ``pkg``)."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def import_graph(package: Path) -> dict[str, set[str]]:
    """Return each module's imports of the package's modules (dotted names)."""
    modules = module_names(package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's package, one level per dot
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle (``[a, b, ..., a]``), or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert {
        "panneuro.compendium.access",
        "panneuro.compendium.datalad_io",
        "panneuro.results.run",
    } <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle in src/panneuro: {' -> '.join(cycle)}"


def test_the_data_layer_shares_its_tool_runner_instead_of_importing_across():
    graph = import_graph(PACKAGE)
    assert "panneuro.compendium.annex" in graph["panneuro.compendium.access"]
    assert "panneuro.compendium.annex" in graph["panneuro.compendium.datalad_io"]
    assert "panneuro.compendium.datalad_io" not in graph["panneuro.compendium.access"]


def test_a_cycle_through_a_deferred_import_is_found_and_named(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from pkg.sub.b import B\n")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("B = 1\n\ndef f():\n    from ..a import g\n")
    (package / "c.py").write_text("import pkg.a\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.sub"] == {"pkg.sub.b"} and graph["pkg.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]
    (package / "sub" / "b.py").write_text("B = 1\n")
    assert find_cycle(import_graph(package)) is None
