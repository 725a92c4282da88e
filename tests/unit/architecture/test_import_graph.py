"""The import graph of the product packages: no circle anywhere, no arrow back up.

Every import counts, at module level, inside a function or under ``if TYPE_CHECKING:``: a lazy
import is still a dependency, and a circle of them is a knot a reader has to untie. The layers
above the ones tests/unit/architecture/test_layers.py guards: the emulator (``samlocal``) is a
library that runs any SAM template, so it imports no Userflow code; entry points
(``userflow/commands``, ``userflow/cli.py``) only enter, so no other module imports them.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("handlers", "domain", "adapters", "userflow", "samlocal")
ENTRY_POINTS = ("userflow.commands", "userflow.cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules() -> dict[str, Path]:
    return {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def imported_modules(path: Path, module: str, modules: Collection[str]) -> Iterator[str]:
    """The modules the import statements of ``path`` name: ``from a import b`` imports the
    module ``a.b`` if there is one, else a name of ``a``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in modules else base


def import_graph() -> dict[str, set[str]]:
    """Product module → the product modules it imports."""
    modules = product_modules()
    return {
        module: {
            name
            for name in imported_modules(path, module, modules)
            if name in modules and name != module
        }
        for module, path in modules.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_given_the_product_packages_when_their_imports_are_read_then_no_circle_remains() -> None:
    assert circles(import_graph()) == []


def test_given_the_emulator_when_its_imports_are_read_then_it_imports_no_userflow_code() -> None:
    """Userflow's start-up reaches the emulator as options and hooks (userflow/local_stack.py)."""
    reaching_up = {
        module: sorted(i for i in imported if not is_under(i, "samlocal"))
        for module, imported in import_graph().items()
        if is_under(module, "samlocal")
    }

    assert {module: bad for module, bad in reaching_up.items() if bad} == {}


def test_given_library_modules_when_their_imports_are_read_then_none_imports_an_entry_point() -> (
    None
):
    upward = {
        module: sorted(i for i in imported if any(is_under(i, e) for e in ENTRY_POINTS))
        for module, imported in import_graph().items()
        if not any(is_under(module, e) for e in ENTRY_POINTS)
    }

    assert {module: bad for module, bad in upward.items() if bad} == {}


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set(), "c": {"b"}}, []),
    ],
    ids=["circle", "tree"],
)
def test_given_a_graph_when_circles_are_sought_then_exactly_its_circles_are_found(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert circles(graph) == expected
