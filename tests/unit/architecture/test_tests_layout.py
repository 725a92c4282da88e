"""The tests mirror the source (docs/architecture.md): every test module sits in an area folder of
its kind, and what modules share lives in tests/support/ or a conftest, never in another test
module (importing one runs nothing, but hides a helper where no reader looks for it)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
KINDS = ("unit", "integration", "e2e")


def _test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def test_given_every_test_module_then_it_sits_in_an_area_folder_of_its_kind() -> None:
    misplaced = [
        str(path.relative_to(TESTS))
        for path in _test_modules()
        if len(path.relative_to(TESTS).parts) != 3 or path.relative_to(TESTS).parts[0] not in KINDS
    ]

    assert misplaced == [], (
        "move them to tests/{unit,integration,e2e}/<area>/ (docs/architecture.md)"
    )


def test_given_every_test_module_then_it_imports_no_other_test_module() -> None:
    imports = {
        f"{path.relative_to(TESTS)}: {node.module}"
        for path in _test_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("tests.")
        and not node.module.startswith("tests.support.")
    }

    assert sorted(imports) == [], "shared helpers go to tests/support/, fixtures to a conftest.py"
