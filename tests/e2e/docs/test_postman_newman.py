"""The Postman collection's walk-through, run by Newman against `userflow local` as a Postman user
runs it: folder by folder, pasting the mailed tokens in between (here from `userflow mail`)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from scripts.generate_postman import ENVIRONMENT, OUTPUT
from scripts.postman_walkthrough import WALKTHROUGH
from tests.support.local_stack import REPO, LocalStack

NODE = REPO / ".venv-tools" / "bin" / "node"
NEWMAN = REPO / "node_modules" / "newman" / "bin" / "newman.js"


def newman(env_file: Path, folders: list[str], **variables: str) -> dict[str, str]:
    """Runs ``folders`` in order; returns the environment the run leaves (tokens captured)."""
    command = [str(NODE), str(NEWMAN), "run", str(OUTPUT), "-e", str(env_file)]
    for folder in folders:
        command += ["--folder", folder]
    for name, value in variables.items():
        command += ["--env-var", f"{name}={value}"]
    command += ["--export-environment", str(env_file), "--reporters", "cli", "--bail"]
    command += ["--color", "off", "--disable-unicode"]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    values = json.loads(env_file.read_text())["values"]
    return {value["key"]: str(value["value"]) for value in values}


def mailed_token(stack: LocalStack, email: str, count: int) -> str:
    done = stack.run(
        "userflow.cli",
        "mail",
        "tail",
        "--to",
        email,
        "--from-start",
        "--count",
        str(count),
        "--timeout",
        "10",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    found = re.search(r"token=(\S+)", last["text"])
    assert found is not None, last
    return found[1]


def test_given_a_local_stack_when_newman_runs_the_walkthrough_then_every_step_passes(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    if not (NODE.exists() and NEWMAN.exists()):
        pytest.fail("make serverless-tools installs Node (.venv-tools) and newman (node_modules)")
    env_file = tmp_path / "environment.json"
    env_file.write_text(ENVIRONMENT.read_text())
    first, verify, forgot, reset, logout = WALKTHROUGH

    state = newman(env_file, [first], baseUrl=local_stack.api_url)
    email = state["email"]
    assert state["access_token"]
    assert state["user_id"]
    state = newman(
        env_file, [verify, forgot], verification_token=mailed_token(local_stack, email, 1)
    )
    newman(env_file, [reset, logout], reset_token=mailed_token(local_stack, email, 2))

    me = local_stack.request(
        "POST", "/auth/login", json_body={"email": email, "password": state["new_password"]}
    )
    assert me.status == 200
