"""The README's walk-through, run as written (bash + curl) against a fresh `userflow local`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.e2e.conftest import REPO, start_local_stack

README_API = "API=http://127.0.0.1:3000"


def walkthrough() -> str:
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    return next(block for block in blocks if block.startswith(README_API))


def test_given_a_fresh_local_stack_when_the_readme_walkthrough_runs_then_every_step_answers(
    tmp_path: Path,
) -> None:
    assert shutil.which("curl"), "the walk-through needs curl"
    with start_local_stack(tmp_path, test_limits=False) as stack:  # as `make run` starts it
        script = walkthrough().replace(README_API, f"API={stack.api_url}", 1)

        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
            cwd=REPO,
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    output = done.stdout
    assert done.returncode == 0, output + done.stderr
    assert "HTTP/1.1 201 Created" in output
    assert "HTTP/1.1 200 OK" in output
    assert '{"message":"Unauthorized"} 401' in output
    assert '"name":"Ann Example"' in output
    assert '{"message":"Invalid credentials"} 401' in output
    assert "ann@example.com" in output  # admin grant names the user
    assert "UserStreamFailureQueue" in output  # dlq list
    assert '"kty": "EC"' in output or '"kty":"EC"' in output
    assert "Confirm your email address" in output  # userflow mail list
    assert "\n204\n202\n204\n" in output  # verified, forgot, reset
    assert '"email_verified":true' in output
    assert output.rstrip().endswith("200")
