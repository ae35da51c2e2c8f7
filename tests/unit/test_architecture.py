"""The shape of the code: layers point down, no import circles, modules and functions stay small.

The layers, highest first (docs/architecture.md draws them):

- `ui`: every interface (chat, command line, LangGraph server glue, our MCP server);
- `graph`: the agent (state, nodes, engines, policy, grounding);
- `prompts`: the model's instructions;
- `tools`: what the agent can call (mail, calendar, integrations, the MCP client);
- `memory`: what is kept (database, vault, checkpoints, audit).

A module may import its own layer and the ones below, never one above. Imports inside functions
count too (they hide circles as well as top-level ones do); imports under `if TYPE_CHECKING:`
do not, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("ui", "graph", "prompts", "tools", "memory")
"""Highest first."""
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# What is known and not yet split: nothing now. Each check asserts it finds exactly these, so a
# new offender fails, and so does a fixed one left on a list.
KNOWN_UPWARD: set[str] = set()
KNOWN_CIRCLES: list[list[str]] = []
KNOWN_LONG_MODULES: set[str] = set()
KNOWN_LONG_FUNCTIONS: set[str] = set()


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _resolve(name: str) -> str | None:
    """The longest known module `name` names (or lies in)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
        for target in targets:
            resolved = _resolve(target)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_no_layer_imports_upward() -> None:
    upward = set(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _layer(target) < _layer(module)
    )
    assert upward == KNOWN_UPWARD


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def _ignoring_packages(cycle: list[str]) -> bool:
    """A package's `__init__` re-exporting its own modules is not a circle worth naming."""
    return len(cycle) == 2 and any(
        MODULES[m].name == "__init__.py" and other.startswith(m + ".")
        for m in cycle
        for other in cycle
        if other != m
    )


def test_no_import_circles() -> None:
    assert [cycle for cycle in _cycles() if not _ignoring_packages(cycle)] == KNOWN_CIRCLES


def test_the_checks_see_an_upward_import_and_a_circle() -> None:
    # The checks themselves must be able to fail.
    saved = {name: set(targets) for name, targets in GRAPH.items()}
    try:
        GRAPH["memory.paths"].add("ui.cli")
        GRAPH["ui.cli"].add("memory.paths")
        assert any({"memory.paths", "ui.cli"} <= set(c) for c in _cycles())
        assert _layer("ui.cli") < _layer("memory.paths")
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_short(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert (lines > MAX_MODULE_LINES) == (module in KNOWN_LONG_MODULES), f"{module}: {lines} lines"


def test_functions_are_short() -> None:
    long = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.add(f"{module}.{node.name}")
    assert long == KNOWN_LONG_FUNCTIONS
