"""The rules of the house (docs/architecture.md), checked on the source: imports at any
depth (inside functions too) form no cycle, private modules never import the public façade,
nobody reads another module's underscored names, and the layout shows the subsystems."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sipstatus

PACKAGE = Path(sipstatus.__file__).parent
#: Public modules: what users import. Private modules must not import them.
FACADES = {"sipstatus", "sipstatus.strategies", "sipstatus.capture", "sipstatus.hep",
           "sipstatus.lake"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(path): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module imported, name imported from it or None) for every import in ``tree``."""
    found: list[tuple[str, str | None]] = []
    package = name if name in _packages() else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((target, None) if target in MODULES else (base, alias.name))
    return [(module, item) for module, item in found if module.split(".")[0] == "sipstatus"]


def _packages() -> set[str]:
    return {_module_name(path) for path in PACKAGE.rglob("__init__.py")}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, tree in MODULES.items():
        graph[name] = {module for module, _ in _imports(name, tree)
                       if module in MODULES and module != name}
    return graph


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            cycle = [*path[path.index(node):], node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if node in done:
            return
        path.append(node)
        for child in sorted(graph[node]):
            visit(child)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_the_check_sees_imports_inside_functions() -> None:
    tree = ast.parse("def f():\n    from sipstatus._parse import parse\n")
    assert ("sipstatus._parse", None) not in _imports("sipstatus._message", tree)
    assert ("sipstatus._parse", "parse") in _imports("sipstatus._message", tree)


def test_private_modules_do_not_import_the_facade() -> None:
    offenders = []
    for name, tree in MODULES.items():
        if name in FACADES or name == "sipstatus.__main__":
            continue
        for module, _item in _imports(name, tree):
            if module in FACADES:
                offenders.append(f"{name} imports {module}")
    assert offenders == []


def test_nobody_imports_another_modules_underscored_names() -> None:
    offenders = []
    for name, tree in MODULES.items():
        for module, item in _imports(name, tree):
            if item is not None and item.startswith("_") and module != name:
                offenders.append(f"{name} imports {item} from {module}")
    assert offenders == []


def test_subsystems_are_packages() -> None:
    top = {path.name for path in PACKAGE.glob("*.py")}
    assert not [name for name in top if name.startswith(("_fuzz_", "_cmd_"))]
    assert {"_fuzz", "_cli", "capture", "lake"} <= {path.name for path in PACKAGE.iterdir()
                                           if (path / "__init__.py").exists()}


def test_the_map_names_every_module() -> None:
    text = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [name for name in MODULES
               if name != "sipstatus" and name.rpartition(".")[2] not in text]
    assert missing == []
