"""The layering the README promises: domain is pure, adapters never reach up into handlers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
