"""`make client`'s generator on docs/openapi.json, then the README's walk-through through the
generated client against `userflow local`: an OpenAPI change that breaks generated clients, or
that they cannot call the API with, fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.local_stack import REPO, LocalStack

BIN = Path(sys.executable).parent


def generate(output: Path) -> None:
    done = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(REPO / "docs" / "openapi.json"),
            "--output-path",
            str(output),
            "--config",
            str(REPO / "openapi-python-client.yaml"),
            "--fail-on-warning",
        ],
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_given_the_generated_client_when_the_walkthrough_runs_through_it_then_every_step_passes(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    generate(tmp_path / "client")

    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "docs" / "examples" / "client_walkthrough.py"),
            local_stack.api_url,
        ],
        cwd=REPO,
        env={**local_stack.env, "PYTHONPATH": str(tmp_path / "client")},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "update with a stale If-Match: 412" in done.stdout
    assert done.stdout.rstrip().endswith("read my record, logged out: 401")
