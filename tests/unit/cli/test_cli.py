"""The `userflow` command line as an operator meets it, without any stack: help, exit statuses,
refusing to guess a target, quiet ends, and what `--help` loads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from userflow.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[3]
HEAVY_MODULES = ("jwt", "cryptography", "boto3", "botocore")


def _help_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    nested = {
        "admin": ["grant"],
        "keys": ["rotate", "activate", "ensure", "list"],
        "dlq": ["list", "replay", "show", "drop"],
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


def test_given_the_hash_cost_by_its_scrypt_era_name_when_local_starts_then_refused_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("USERFLOW_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("USERFLOW_SCRYPT_LOG2_N", "10")

    code = main(["local", "--port", "0"])

    captured = capsys.readouterr()
    assert code == 2
    assert "USERFLOW_SCRYPT_LOG2_N is now USERFLOW_ARGON2_MEMORY_LOG2_KIB" in captured.err
    assert not (tmp_path / "local.json").exists()


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


def _a_running_local_stack(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state `userflow local` records, as if it ran (this process stands for it)."""
    state = {
        "pid": os.getpid(),
        "stack_name": "userflow-local",
        "region": "us-east-1",
        "endpoint_url": "http://127.0.0.1:9",
        "api_url": "http://127.0.0.1:8",
        "resources": {},
    }
    (directory / "local.json").write_text(json.dumps(state))
    monkeypatch.setenv("USERFLOW_STATE_DIR", str(directory))


def test_given_a_local_stack_when_another_region_is_asked_then_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _a_running_local_stack(tmp_path, monkeypatch)

    code = main(["dlq", "list", "--region", "eu-west-1"])

    err = capsys.readouterr().err
    assert code == 2
    assert "the local stack 'userflow-local' runs in region us-east-1" in err
    assert "--stack-name" in err


def test_given_a_stack_name_and_no_region_anywhere_when_run_then_refused_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))

    code = main(["status", "--stack-name", "userflow-staging"])

    err = capsys.readouterr().err
    assert code == 2
    assert "no region for stack 'userflow-staging': give --region" in err


@pytest.mark.parametrize(
    "flags",
    [
        ["--count", "0"],
        ["--count", "-1"],
        ["--timeout", "-5"],
        ["--timeout", "0"],
        ["--timeout", "nan"],
    ],
)
def test_given_a_tail_that_could_never_print_when_asked_then_refused(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["events", "tail", *flags])

    assert refused.value.code == 2
    assert flags[0] in capsys.readouterr().err


def test_given_a_hang_up_when_a_command_runs_then_it_ends_with_129_after_cleaning_up() -> None:
    probe = (
        "import os, signal, sys\n"
        "import userflow.cli as cli\n"
        "def waits(argv=None):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGHUP)\n"
        "        signal.pause()\n"
        "    finally:\n"
        "        print('cleaned up', flush=True)\n"
        "    return 0\n"
        "cli.main = waits\n"
        "sys.exit(cli.run())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )

    assert result.returncode == 128 + signal.SIGHUP
    assert result.stdout == "cleaned up\n"
    assert result.stderr == ""
