"""The README's walk-throughs (the main one, then MFA's), run as written (bash + curl) against a
fresh `userflow local`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.support.local_stack import REPO, start_local_stack

README_API = "API=http://127.0.0.1:3000"


def walkthrough() -> str:
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    return next(block for block in blocks if block.startswith(README_API))


def mfa_walkthrough() -> str:
    """The walk-through of docs/api/mfa.md: it continues the README's last login."""
    section = (REPO / "docs" / "api" / "mfa.md").read_text()
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return blocks[0]


MFA_MARK = "--- multi-factor authentication"


def test_given_a_fresh_local_stack_when_the_readme_walkthrough_runs_then_every_step_answers(
    tmp_path: Path,
) -> None:
    assert shutil.which("curl"), "the walk-through needs curl"
    with start_local_stack(tmp_path, test_limits=False) as stack:  # as `make run` starts it
        script = walkthrough().replace(README_API, f"API={stack.api_url}", 1)
        script += f"\necho '{MFA_MARK}'\n{mfa_walkthrough()}"

        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
            cwd=REPO,
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    assert done.returncode == 0, done.stdout + done.stderr
    output, mfa = done.stdout.split(MFA_MARK)
    assert "HTTP/1.1 201 Created" in output
    assert "HTTP/1.1 200 OK" in output
    assert '{"message":"Unauthorized"} 401' in output
    assert '"name":"Ann Example"' in output
    assert re.search(r'"name":"Ann Example".*\} 200\n', output)
    assert "} 412\n" in output  # the stale If-Match
    # Every command's output ends with a newline: no answer runs into the next one.
    assert not re.search(r"\}(\{|HTTP/|\.venv|[A-Za-z])", output + mfa), output + mfa
    assert '{"message":"Invalid credentials"} 401' in output
    assert "ann@example.com" in output  # admin grant names the user
    assert "UserStreamFailureQueue" in output  # dlq list
    assert '"kty": "EC"' in output or '"kty":"EC"' in output
    assert "Confirm your email address" in output  # userflow mail list
    assert "\n204\n202\n204\n" in output  # verified, forgot, reset
    assert '"email_verified":true' in output
    assert output.rstrip().endswith("200")
    # MFA: the confirm answers ten recovery codes, then a login with pyotp's code the token pair.
    assert '"recovery_codes":[' in mfa
    assert '"access_token"' in mfa.rsplit('"recovery_codes":[', 1)[1]
    assert "second factor off, sessions ended, user mailed" in mfa
