"""The shape of the code: layers that import downward only, no cycles, modules a reader can
hold in their head.

`policies` (the language) -> `activities` (side effects) -> `workflows` -> `api`: each may
import only the layers below it. `ticketflow.settings` and the sandbox's demo credentials
are leaves anyone may import; the rest of `ticketflow` and `benchmarks` are the composition
root and may import everything; `sandbox` emulates third parties and imports none of the
product.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"policies": 0, "activities": 1, "workflows": 2, "api": 3}
COMPOSITION_ROOT = {"ticketflow", "benchmarks"}
PACKAGES = {*LAYERS, *COMPOSITION_ROOT, "sandbox"}
LEAVES = ("ticketflow.settings", "sandbox.credentials")
MAX_LINES = 700


def source_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted module name, path) of every module of our packages under `root`."""
    for package in sorted(PACKAGES):
        for path in sorted((root / package).rglob("*.py")):
            if ".venv" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _is_module(root: Path, dotted: str) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def imported(path: Path, root: Path) -> set[str]:
    """Every module of our packages that `path` imports, lazy imports included
    (`from a import b` counts as `a.b` when `b` is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = {f"{node.module}.{a.name}" for a in node.names}
            modules = {m for m in modules if _is_module(root, m)}
            found.update(modules or {node.module})
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _is_leaf(module: str) -> bool:
    return any(module == leaf or module.startswith(f"{leaf}.") for leaf in LEAVES)


def _node(module: str) -> str:
    """The package a module belongs to, a leaf counting as its own node."""
    return next((leaf for leaf in LEAVES if _is_leaf(module)), module.split(".")[0])


def edges(root: Path) -> Iterator[tuple[str, str]]:
    """(importing module, imported module) between different packages."""
    for module, path in source_files(root):
        for target in sorted(imported(path, root)):
            if _node(target) != _node(module):
                yield module, target


def violations(root: Path) -> list[str]:
    found = []
    for module, target in edges(root):
        source, dest = _node(module), _node(target)
        if _is_leaf(module):
            allowed = _is_leaf(target)
        elif _is_leaf(target):
            allowed = True
        elif source == "sandbox":
            allowed = False
        elif source in COMPOSITION_ROOT:
            allowed = True
        else:
            allowed = dest in LAYERS and LAYERS[dest] < LAYERS[source]
        if not allowed:
            found.append(f"{module} imports {target}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk of a package graph."""
    found: list[list[str]] = []
    path: list[str] = []
    done: set[str] = set()

    def walk(node: str) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            walk(nxt)
        path.pop()
        done.add(node)

    for start in sorted(graph):
        walk(start)
    return found


def package_graph(root: Path) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, target in edges(root):
        graph.setdefault(_node(module), set()).add(_node(target))
    return graph


def test_each_layer_imports_only_the_layers_below() -> None:
    assert violations(ROOT) == []


def test_no_import_cycle_between_the_packages() -> None:
    assert cycles(package_graph(ROOT)) == []


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_no_module_too_long_to_read(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_checks_see_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    """The checks above are not vacuous: a tree with an upward import, a sandbox that
    reaches into the product and a settings module that is not a leaf fails them."""
    files = {
        "policies/compiler.py": "from workflows.ticket import TicketWorkflow\n",
        "workflows/ticket.py": "import policies.compiler\nfrom ticketflow.settings import S\n",
        "sandbox/app.py": "def f():\n    from activities.platforms import config\n",
        "ticketflow/settings.py": "from api import db\n",
        "api/db.py": "from sandbox.credentials import TOKEN\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == [
        "policies.compiler imports workflows.ticket",
        "sandbox.app imports activities.platforms",
        "ticketflow.settings imports api.db",
    ]
    assert ["policies", "workflows", "policies"] in cycles(package_graph(tmp_path))
