"""What `userflow local` prints: one line per request, function logs and errors, nothing else."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_stack import LocalStack, start_local_stack
from tests.support.probe_template import write_probe_template

pytestmark = pytest.mark.e2e

TIMESTAMPED = re.compile(r"^\d\d:\d\d:\d\d ")
BANNER = (
    "Userflow API:",
    "API reference:",
    "Local AWS endpoint:",
    "Stack state:",
    "Mail:",
    "Parameters:",
    "userflow local stopped",
)


def _settled_output(stack: LocalStack, expected: str) -> str:
    """The console once ``expected`` appeared in it (function output is asynchronous)."""
    deadline = time.monotonic() + 15
    while expected not in (output := stack.output()):
        assert time.monotonic() < deadline, f"no {expected!r} in:\n{output}"
        time.sleep(0.1)
    return output


def test_given_the_real_template_when_users_register_and_log_in_then_the_console_stays_readable(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email = unique_email()
    registration = {"email": email, "password": "correct horse battery staple", "name": "Con"}
    local_stack.request("POST", "/users", json_body=registration)
    wrong = {"email": email, "password": "not the right password"}
    assert local_stack.request("POST", "/auth/login", json_body=wrong).status == 401

    output = _settled_output(local_stack, "metrics: LoginFailed=1")

    assert re.search(r"^\S+ POST /users 201 \d+ ms \| CreateUserFunction \d+ ms", output, re.M)
    assert re.search(r"^\S+ POST /auth/login 401 \d+ ms \| LoginFunction \d+ ms", output, re.M)
    assert '"_aws"' not in output  # EMF documents are summarised, not dumped
    assert "Warning" not in output
    for line in output.splitlines():
        assert TIMESTAMPED.match(line) or line.startswith(BANNER), line


def test_given_json_log_format_when_requests_run_then_every_line_is_a_json_record(
    tmp_path: Path,
) -> None:
    template = write_probe_template(tmp_path / "source")
    arguments = ("--template", str(template), "--log-format", "json", "--verbose")
    with start_local_stack(tmp_path, *arguments) as stack:
        echo = stack.request("GET", "/echo")
        stack.request("GET", "/fail")
        _settled_output(stack, "ValueError: probe failure")
    records: list[dict[str, Any]] = [
        json.loads(line) for line in stack.output().splitlines() if line.strip()
    ]

    access = [record for record in records if record["kind"] == "access"]
    # The id the client got, which the functions' log lines carry as their correlation_id.
    assert access[0]["request_id"] == echo.headers["apigw-requestid"]
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/echo"
    assert access[0]["status"] == 200
    assert access[0]["invocations"][0]["function"] == "EchoFunction"
    assert access[0]["invocations"][0]["cold"] is True
    assert access[1]["status"] == 500
    failure = [r for r in records if r["kind"] == "function" and r["function"] == "FailFunction"]
    assert any("ValueError: probe failure" in record.get("message", "") for record in failure)
    reports = [record["message"] for record in records if record["kind"] == "report"]
    assert re.match(
        r"REPORT EchoFunction RequestId: \S+ Duration: [\d.]+ ms .*Init Duration", reports[0]
    )


def test_given_a_metrics_file_when_functions_emit_metrics_then_they_go_there_not_the_console(
    tmp_path: Path, unique_email: Callable[[], str]
) -> None:
    metrics = tmp_path / "metrics.jsonl"
    with start_local_stack(tmp_path, "--metrics-file", str(metrics)) as stack:
        registration = {"email": unique_email(), "password": "correct horse battery", "name": "M"}
        assert stack.request("POST", "/users", json_body=registration).status == 201
        deadline = time.monotonic() + 15
        while not metrics.exists() or "UserRegistered" not in metrics.read_text():
            assert time.monotonic() < deadline, stack.output()
            time.sleep(0.1)

    document = json.loads(metrics.read_text().splitlines()[0])
    assert "_aws" in document
    assert "metrics:" not in stack.output()
