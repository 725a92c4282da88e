"""The layering the README promises: domain is pure, adapters never reach up into handlers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = {
    "domain": {
        "boto3",
        "botocore",
        "aws_lambda_powertools",
        "moto",
        "handlers",
        "adapters",
        "userflow",
    },
    "adapters": {"handlers", "userflow"},
    "handlers": {"userflow"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_given_a_layer_when_its_imports_are_read_then_none_crosses_a_boundary(layer: str) -> None:
    crossings = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[layer])
        for path in sorted((ROOT / layer).glob("**/*.py"))
    }

    assert {module: bad for module, bad in crossings.items() if bad} == {}


def runtime_stub_imports(path: Path) -> list[str]:
    """Imports of mypy-boto3 stub packages outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    type_checking_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If)
        and isinstance(block.test, ast.Name)
        and block.test.id == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in type_checking_only:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("mypy_boto3")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mypy_boto3"):
            found.append(str(node.module))
    return found


@pytest.mark.parametrize("package", ["handlers", "domain", "adapters", "userflow"])
def test_given_shipped_code_when_its_imports_are_read_then_stubs_are_for_type_checking_only(
    package: str,
) -> None:
    """Lambda and the installed CLI do not ship the mypy-boto3 stubs (requirements/runtime.txt)."""
    at_runtime = {
        str(path.relative_to(ROOT)): runtime_stub_imports(path)
        for path in sorted((ROOT / package).glob("**/*.py"))
    }

    assert {module: stubs for module, stubs in at_runtime.items() if stubs} == {}
