"""`make suite` relies on xdist's groups: the tests of one group run on one worker, so a stack
or a `sam build` that a module's tests share is made once, not once per worker. pytest-xdist
3.8.0 silently stops grouping under pytest 9.2.0 (pytest-dev/pytest-xdist#1386): this test fails
on such an upgrade instead of the suite quietly growing slower."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TWO_GROUPED_TESTS = """
import pytest

pytestmark = pytest.mark.xdist_group("shared")


def test_one():
    pass


def test_two():
    pass
"""


def test_given_two_tests_of_one_group_when_distributed_as_make_suite_does_then_one_worker_runs_both(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_grouped.py").write_text(TWO_GROUPED_TESTS)

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    workers = re.findall(r"\[(gw\d+)\] .*PASSED .*test_grouped\.py::test_\w+@shared", run.stdout)
    assert len(workers) == 2, run.stdout
    assert len(set(workers)) == 1, run.stdout
