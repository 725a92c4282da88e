"""The `userflow` command line as an operator meets it, without any stack: help, exit statuses,
refusing to guess a target, quiet ends, and what `--help` loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from userflow.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[2]
HEAVY_MODULES = ("jwt", "cryptography", "boto3", "botocore")


def _help_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    nested = {
        "admin": ["grant"],
        "keys": ["rotate", "ensure", "list"],
        "dlq": ["list", "replay"],
        "events": ["tail"],
        "mail": ["list", "tail"],
    }
    for command in COMMANDS:
        paths.append([command])
        paths.extend([command, sub] for sub in nested.get(command, []))
    return paths


@pytest.mark.parametrize("path", _help_paths(), ids=lambda p: " ".join(p) or "userflow")
def test_given_any_command_when_asked_for_help_then_it_says_what_it_does_and_its_exit_statuses(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])

    text = capsys.readouterr().out
    assert exited.value.code == 0
    usage, _, rest = text.partition("\n\n")
    assert usage.startswith("usage: userflow")
    assert rest.split("\n")[0].strip(), "no description under the usage line"
    assert "exit status:" in text
    assert "2    nothing done" in text


def _imported_after(*arguments: str) -> list[str]:
    probe = (
        "import sys\n"
        "from userflow.cli import main\n"
        "try:\n"
        f"    main({list(arguments)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    return list(eval(result.stdout.strip().splitlines()[-1]))  # noqa: S307 - our own probe's list


def test_given_userflow_help_when_run_then_no_aws_sdk_jwt_or_cryptography_is_loaded() -> None:
    assert _imported_after("--help") == []


@pytest.mark.parametrize("path", [["keys", "rotate"], ["keys"], ["status"], ["events", "tail"]])
def test_given_a_command_help_when_run_then_no_jwt_or_cryptography_is_loaded(
    path: list[str],
) -> None:
    loaded = _imported_after(*path, "--help")

    assert "jwt" not in loaded
    assert "cryptography" not in loaded


@pytest.mark.parametrize(
    "arguments", [["keys", "rotate"], ["admin", "grant", "a@example.com"], ["status"]]
)
def test_given_no_local_stack_and_no_stack_name_when_a_command_runs_then_it_refuses_with_exit_2(
    arguments: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("USERFLOW_STATE_DIR", str(tmp_path))  # no running local stack recorded
    # Credentials that would work if the command fell back to a deployed stack by itself.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")

    code = main(arguments)

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "no local stack is running and no --stack-name was given" in captured.err


def test_given_an_endpoint_without_a_stack_name_when_run_then_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "list", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert "--endpoint-url needs --stack-name" in capsys.readouterr().err


def test_given_a_reader_that_went_away_when_a_command_writes_then_userflow_ends_quietly() -> None:
    # A command printing more than a pipe holds, its reader gone (like `| head` that exited).
    probe = (
        "import sys\n"
        "import userflow.cli as cli\n"
        "def chatty(argv=None):\n"
        "    for _ in range(100):\n"
        "        print('x' * 10_000)\n"
        "    return 0\n"
        "cli.main = chatty\n"
        "sys.exit(cli.run())\n"
    )
    read_end, write_end = os.pipe()
    os.close(read_end)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    os.close(write_end)

    assert result.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert result.returncode == 141
