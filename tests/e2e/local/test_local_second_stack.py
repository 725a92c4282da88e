"""A second `userflow local` beside a running one: refused before it touches the running stack's
mail journal or fault rates, with the command that would start it beside the first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.local_stack import REPO, LocalStack

pytestmark = pytest.mark.e2e


def files_of(state_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(state_dir.iterdir()) if path.is_file()}


def second_stack(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "userflow.cli", "local", *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_given_a_running_stack_when_another_starts_with_its_state_then_refused_untouched(
    local_stack: LocalStack,
) -> None:
    before = files_of(local_stack.state_dir)

    done = second_stack(local_stack.env, "--port", "0", "--fail-rate", "putevents=1")

    assert done.returncode == 2, done.stderr
    assert "running already" in done.stderr
    assert "USERFLOW_STATE_DIR=/tmp/userflow-2 make run PORT=3001" in done.stderr
    assert files_of(local_stack.state_dir) == before


def test_given_a_busy_port_when_another_stack_starts_then_it_fails_naming_make_run_port(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    before = files_of(local_stack.state_dir)
    busy = urlsplit(local_stack.api_url).port
    assert busy is not None
    env = {**local_stack.env, "USERFLOW_STATE_DIR": str(tmp_path / "state")}

    done = second_stack(env, "--port", str(busy), "--fail-rate", "putevents=1")

    assert done.returncode == 1, done.stderr
    assert f"make run PORT={busy + 1}" in done.stderr
    assert files_of(local_stack.state_dir) == before
    assert not (tmp_path / "state").exists()
