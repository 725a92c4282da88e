"""Account recovery over real HTTP against `userflow local`: the mail read back with the operator
CLI, as a user would click the links; and a mail failure recovered with `userflow dlq replay`."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.local_stack import LocalStack, start_local_stack

pytestmark = pytest.mark.e2e
SENDER = "no-reply@example.com"


def _mails(stack: LocalStack, to: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` messages sent to ``to``, waiting for them (userflow mail tail)."""
    done = stack.run(
        "userflow.cli", "mail", "tail", "--to", to, "--from-start", "--count", str(count),
        "--timeout", "20", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _token(mail: dict[str, Any]) -> str:
    found = re.search(r"token=(\S+)", mail["text"])
    assert found, mail
    return found.group(1)


def _login(stack: LocalStack, email: str, password: str) -> Any:
    return stack.request("POST", "/auth/login", json_body={"email": email, "password": password})


def test_given_a_new_user_when_verifying_forgetting_and_resetting_then_the_new_password_works(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email, password = unique_email(), "correct horse battery staple"
    registered = local_stack.request(
        "POST", "/users", json_body={"email": email, "password": password, "name": "Eve"}
    )
    assert registered.status == 201
    assert registered.json()["email_verified"] is False
    old_session = _login(local_stack, email, password).json()

    [verification] = _mails(local_stack, email, 1)
    verified = local_stack.request(
        "POST", "/auth/verify-email", json_body={"token": _token(verification)}
    )
    forgot = local_stack.request("POST", "/auth/forgot-password", json_body={"email": email})
    reset_mail = _mails(local_stack, email, 2)[-1]
    reset = local_stack.request(
        "POST",
        "/auth/reset-password",
        json_body={"token": _token(reset_mail), "password": "a brand new passphrase"},
    )

    assert (verified.status, forgot.status, reset.status) == (204, 202, 204)
    assert set(verification) == {"to", "subject", "text", "sent_at"}
    assert verification["to"] == email
    assert reset_mail["subject"] == "Reset your password"
    assert _login(local_stack, email, password).status == 401
    fresh = _login(local_stack, email, "a brand new passphrase")
    assert fresh.status == 200
    bearer = {"Authorization": f"Bearer {old_session['access_token']}"}
    assert local_stack.request("GET", "/users/me", headers=bearer).status == 401
    me = local_stack.request(
        "GET", "/users/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    assert me.json()["email_verified"] is True
    listed = local_stack.run("userflow.cli", "mail", "list", "--to", email)
    assert listed.stdout.count(f"to {email}") == 2


def test_given_an_unknown_address_when_forgetting_then_202_and_no_mail(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email = unique_email()

    answer = local_stack.request("POST", "/auth/forgot-password", json_body={"email": email})

    assert (answer.status, answer.body) == (202, b"")
    time.sleep(1)
    listed = local_stack.run("userflow.cli", "mail", "list", "--to", email, "--json")
    assert listed.stdout == ""


def test_given_ses_refuses_mail_when_fixed_then_dlq_replay_delivers_it(
    tmp_path: Path, unique_email: Callable[[], str]
) -> None:
    with start_local_stack(tmp_path) as stack:
        ses = boto3.client("sesv2", endpoint_url=stack.endpoint_url, region_name="us-east-1")
        ses.delete_email_identity(EmailIdentity=SENDER)
        email = unique_email()
        registered = stack.request(
            "POST",
            "/users",
            json_body={"email": email, "password": "a dead letter passphrase", "name": "D"},
        )
        assert registered.status == 201
        deadline = time.monotonic() + 20
        while (
            "MailDeadLetterQueue"
            not in (listing := stack.run("userflow.cli", "dlq", "list").stdout)
            or "0 message(s)" in listing.split("MailDeadLetterQueue", 1)[1].split("\n", 1)[0]
        ):
            assert time.monotonic() < deadline, listing
            time.sleep(0.5)

        ses.create_email_identity(EmailIdentity=SENDER)
        replayed = stack.run("userflow.cli", "dlq", "replay", "--queue", "MailDeadLetterQueue")
        [mail] = _mails(stack, email, 1)

    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "sent 1 message(s)" in replayed.stdout
    assert _token(mail) not in replayed.stdout + listing
