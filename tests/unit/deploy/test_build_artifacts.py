"""The layers' bytecode: compiled by Lambda's Python version, used as shipped, or the build says
why not (scripts/build_artifacts.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import build_artifacts

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def test_given_the_template_when_read_then_lambdas_python_version_is_its_runtime() -> None:
    assert build_artifacts.lambda_python() == "3.13"


def test_given_an_interpreter_of_another_version_when_chosen_then_it_does_not_compile() -> None:
    assert build_artifacts.bytecode_compiler(THIS_PYTHON, sys.executable) == sys.executable
    assert build_artifacts.bytecode_compiler("3.99", sys.executable) is None
    assert build_artifacts.bytecode_compiler(THIS_PYTHON, "/no/such/python") is None


def test_given_a_layer_tree_when_compiled_then_every_module_loads_from_unchecked_bytecode(
    tmp_path: Path,
) -> None:
    package = tmp_path / "python" / "layered"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "módulo.py").write_text("ANSWER = 42\n")

    build_artifacts.compile_bytecode(tmp_path / "python", sys.executable)

    for source in package.glob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        flags = int.from_bytes(cached.read_bytes()[4:8], "little")
        assert flags == UNCHECKED_HASH, source.name
    # Used as shipped: the bytecode runs even when the source's file time or text differs from
    # what it was compiled from (zips keep file times only to two seconds).
    (package / "módulo.py").write_text("ANSWER = 0\n")
    loaded = subprocess.run(
        [sys.executable, "-B", "-c", "import layered.módulo as m; print(m.ANSWER)"],
        cwd=tmp_path / "python",
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "42"


def test_given_no_python_of_lambdas_version_when_bytecode_is_required_then_the_build_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = build_artifacts.main(
        ["--out", str(tmp_path), "--bytecode-python", "/no/such/python", "--require-bytecode"]
    )

    assert code == 2
    assert "no Python 3.13" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing staged half-way
