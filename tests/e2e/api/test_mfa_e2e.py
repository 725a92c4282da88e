"""TOTP MFA over real HTTP on `userflow local`, with pyotp as the user's authenticator app: enrol,
confirm, log in with a code, replays (one after another and ten at once), recovery codes, new
codes, step-up, the admin reset with `userflow admin reset-mfa`, and no MFA state in any event or
log line."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pyotp
import pytest

from tests.support.local_stack import HttpResult, LocalStack
from tests.support.mfa_steps import claims

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
INVALID = {"message": "Invalid credentials"}


def _fresh_step() -> None:
    """Waits until the current 30-second step has at least 3 s to run and began 1 s ago."""
    position = time.time() % 30
    if position < 1 or position > 27:
        time.sleep((31 - position) % 30)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(stack: LocalStack, email: str) -> dict[str, Any]:
    response = stack.request(
        "POST", "/auth/login", json_body={"email": email, "password": PASSWORD}
    )
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    return body


def _second_step(stack: LocalStack, mfa_token: str, **proof: str) -> HttpResult:
    return stack.request("POST", "/auth/mfa", json_body={"mfa_token": mfa_token, **proof})


def _events(stack: LocalStack, user_id: str, count: int, timeout: float) -> list[dict[str, Any]]:
    """The user's events at the example subscriber, until ``count`` arrived or time is up."""
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint_url, region_name=stack.state["region"])
    queue_url = stack.state["resources"]["ExampleSubscriberQueue"]["physical_id"]
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(found) < count:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            if event.get("detail", {}).get("user", {}).get("id") == user_id:
                found[event["detail"]["event_id"]] = event
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(found.values(), key=lambda e: e["detail"]["user"]["version"])


def _register(stack: LocalStack, email: str) -> str:
    created = stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "Mfa"}
    )
    assert created.status == 201, created.body
    user_id: str = created.json()["id"]
    return user_id


def _enrol(stack: LocalStack, email: str) -> tuple[pyotp.TOTP, list[str], str]:
    """pyotp takes the secret from the otpauth URI, as an app scanning the QR code would;
    confirming with its previous code leaves the current one for the first login (each step is
    accepted once). The app, the recovery codes and the enrolling (password-only) session."""
    session = _login(stack, email)["access_token"]
    started = stack.request("POST", "/users/me/mfa/totp", headers=_bearer(session))
    assert started.status == 200, started.body
    app = pyotp.parse_uri(started.json()["otpauth_uri"])
    assert isinstance(app, pyotp.TOTP)
    assert app.secret == started.json()["secret"]
    _fresh_step()
    confirmed = stack.request(
        "POST",
        "/users/me/mfa/totp/confirm",
        json_body={"code": app.at(time.time() - 30)},
        headers=_bearer(session),
    )
    assert confirmed.status == 200, confirmed.body
    codes: list[str] = confirmed.json()["recovery_codes"]
    assert len(set(codes)) == 10
    return app, codes, session


def _assert_never_logged(stack: LocalStack, *secrets: str) -> None:
    output = stack.output()
    assert not [secret for secret in secrets if secret in output]


def test_given_pyotp_as_the_app_when_logging_in_then_each_code_works_once_even_in_parallel(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email = unique_email()
    _register(local_stack, email)
    app, recovery_codes, session = _enrol(local_stack, email)

    # Turning MFA off needs a step-up: the enrolling session had only the password.
    refused = local_stack.request("DELETE", "/users/me/mfa/totp", headers=_bearer(session))
    assert (refused.status, refused.json()) == (403, {"message": "Reauthentication required"})

    code = app.now()
    first = _login(local_stack, email)
    assert first["mfa_required"] is True
    assert "access_token" not in first
    tokens = _second_step(local_stack, first["mfa_token"], code=code)
    assert tokens.status == 200, tokens.body
    access = claims(tokens.json()["access_token"])
    assert access["amr"] == ["pwd", "otp"]
    assert abs(access["auth_time"] - time.time()) < 60
    me = local_stack.request("GET", "/users/me", headers=_bearer(tokens.json()["access_token"]))
    assert me.json()["mfa_enabled"] is True

    # The same code again, then ten logins racing with it: all refused.
    replayed = _second_step(local_stack, _login(local_stack, email)["mfa_token"], code=code)
    assert (replayed.status, replayed.json()) == (401, INVALID)
    racing = [_login(local_stack, email)["mfa_token"] for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda t: _second_step(local_stack, t, code=code).status, racing))
    # Refused, each counted as a failed login: the account's throttle answers 429 once it delays.
    assert 401 in statuses
    assert set(statuses) <= {401, 429}
    assert "MfaSucceeded" in local_stack.output()  # the functions' log lines are all there
    _assert_never_logged(local_stack, app.secret, *recovery_codes)


def test_given_five_wrong_codes_then_the_mfa_token_is_dead_even_for_the_right_code(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email = unique_email()
    _register(local_stack, email)
    app, _, _ = _enrol(local_stack, email)
    mfa_token = _login(local_stack, email)["mfa_token"]

    wrong = [_second_step(local_stack, mfa_token, code="000000").status for _ in range(5)]
    right = _second_step(local_stack, mfa_token, code=app.now())

    assert wrong == [401] * 4 + [429]  # the 5th failure in a row starts the throttle's delays
    assert (right.status, right.json()) == (401, INVALID)


def test_given_recovery_codes_and_an_admin_reset_then_each_works_once_and_nothing_leaks(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email = unique_email()
    user_id = _register(local_stack, email)
    app, recovery_codes, _ = _enrol(local_stack, email)

    # A recovery code works once.
    by_code = _second_step(
        local_stack, _login(local_stack, email)["mfa_token"], recovery_code=recovery_codes[0]
    )
    assert by_code.status == 200, by_code.body
    again = _second_step(
        local_stack, _login(local_stack, email)["mfa_token"], recovery_code=recovery_codes[0]
    )
    assert (again.status, again.json()) == (401, INVALID)
    step_up = by_code.json()["access_token"]

    # New codes (a step-up session: a login with the second factor) kill the old set.
    renewed = local_stack.request("POST", "/users/me/mfa/recovery-codes", headers=_bearer(step_up))
    assert renewed.status == 200, renewed.body
    new_codes = renewed.json()["recovery_codes"]
    stale = _second_step(
        local_stack, _login(local_stack, email)["mfa_token"], recovery_code=recovery_codes[1]
    )
    assert stale.status == 401
    fresh = _second_step(
        local_stack, _login(local_stack, email)["mfa_token"], recovery_code=new_codes[0]
    )
    assert fresh.status == 200

    # The operator's reset (lost phone): MFA off, every session ended, the user mailed.
    unknown = local_stack.run("userflow.cli", "admin", "reset-mfa", "nobody@example.com")
    assert unknown.returncode != 0
    reset = local_stack.run("userflow.cli", "admin", "reset-mfa", email, timeout=60)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert local_stack.request("GET", "/users/me", headers=_bearer(step_up)).status == 401
    after = local_stack.request(
        "POST", "/auth/refresh", json_body={"refresh_token": fresh.json()["refresh_token"]}
    )
    assert after.status == 401
    assert "access_token" in _login(local_stack, email)
    mails = local_stack.run(
        "userflow.cli", "mail", "tail", "--to", email, "--from-start", "--count", "4",
        "--timeout", "20", "--json",
    )  # fmt: skip
    subjects = [json.loads(line)["subject"] for line in mails.stdout.splitlines()]
    assert "A recovery code was used to sign in" in subjects
    assert "Two-step verification was reset by an administrator" in subjects

    # Events: mfa_enabled changes are published; no secret in any event or log line.
    events = _events(local_stack, user_id, count=3, timeout=20)
    updates = [e for e in events if e["detail-type"] == "UserUpdated"]
    assert [e["detail"]["changed_fields"] for e in updates] == [["mfa_enabled"], ["mfa_enabled"]]
    assert [e["detail"]["user"]["mfa_enabled"] for e in updates] == [True, False]
    published = json.dumps(events)
    secrets = [app.secret, *recovery_codes, *new_codes]
    assert not [secret for secret in secrets if secret in published]
    assert "totp" not in published
    assert "recovery_codes" not in published
    _assert_never_logged(local_stack, *secrets)
