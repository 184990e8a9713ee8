"""The package's import graph has no cycles (imports inside functions count too) and
respects its layers: core modules never import an analysis, analyses never import the
deck, the runner or the command line."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "ccinsight"
#: Modules that run analyses or assemble their results: the only ones that may import them.
TOP = {"ccinsight.cli", "ccinsight.deck", "ccinsight.archive", "ccinsight.runner", "ccinsight.kernels",
       "ccinsight.__main__"}


def _name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the ccinsight modules it imports anywhere in its body."""
    modules = {_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = 1, stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        state[node], _ = 2, stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    graph = import_graph()
    # the package's own __init__ re-exports the error and record helpers; it is not a layer
    graph["ccinsight"] = set()
    for deps in graph.values():
        deps.discard("ccinsight")
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_layers():
    graph = import_graph()
    analyses = {m for m in graph if m.startswith("ccinsight.analyses")}
    for module, deps in graph.items():
        if module in analyses:
            assert not deps & TOP, f"{module} imports {deps & TOP}"
        elif module not in TOP:
            assert not deps & analyses, f"{module} (core) imports an analysis: {deps & analyses}"
