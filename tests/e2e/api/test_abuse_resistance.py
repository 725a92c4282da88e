"""Abuse resistance over real HTTP on `userflow local` (issue 20's "Done when").

The stack runs with the default limits except where a test needs a window short enough not to
sleep for long (``--parameter-overrides``). Attackers and owners come from different source
addresses: every 127.0.0.0/8 address reaches the local server, which reports the peer address as
API Gateway reports ``sourceIp``.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.local_stack import REPO, Headers, HttpResult, LocalStack, start_local_stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
WRONG = "not the password at all"
SESSION_LIFETIME_S = 60  # the smallest the template allows
REAUTHENTICATION_WINDOW_S = 2
OVERRIDES = (
    "--parameter-overrides",
    f"SessionLifetimeSeconds={SESSION_LIFETIME_S}",
    f"ReauthenticationWindowSeconds={REAUTHENTICATION_WINDOW_S}",
)
PRIZE = "Hello Claim your prize at https://evil.example/win"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    directory = tmp_path_factory.mktemp("abuse")
    with start_local_stack(directory, *OVERRIDES, test_limits=False) as started:
        yield started


def call(
    stack: LocalStack,
    source: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
) -> HttpResult:
    """One request from ``source`` (a 127.0.0.0/8 address)."""
    url = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(
        url.hostname or "127.0.0.1", url.port, timeout=30, source_address=(source, 0)
    )
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return HttpResult(response.status, Headers(response.getheaders()), response.read())
    finally:
        connection.close()


def unique_email() -> str:
    return f"abuse-{uuid.uuid4().hex[:12]}@example.com"


def register(stack: LocalStack, source: str, email: str, name: str = "Owner") -> HttpResult:
    body = {"email": email, "password": PASSWORD, "name": name}
    return call(stack, source, "POST", "/users", body)


def login(
    stack: LocalStack, source: str, email: str, password: str, device: str | None = None
) -> HttpResult:
    body: dict[str, Any] = {"email": email, "password": password}
    if device is not None:
        body["device_token"] = device
    return call(stack, source, "POST", "/auth/login", body)


# ---------------------------------------------------------------- login throttling
def test_given_an_attacker_with_50_wrong_passwords_then_the_owner_still_logs_in_from_their_device(
    stack: LocalStack,
) -> None:
    email = unique_email()
    assert register(stack, "127.0.0.10", email).status == 201
    first = login(stack, "127.0.0.10", email, PASSWORD)
    assert first.status == 200
    device = first.json()["device_token"]

    # 50 guesses from 50 addresses: no per-source limit stops a distributed attack.
    answers = [login(stack, f"127.0.1.{n}", email, WRONG).status for n in range(1, 51)]
    stranger = login(stack, "127.0.0.11", email, PASSWORD)  # a new device: the account's wait
    owner = login(stack, "127.0.0.10", email, PASSWORD, device)

    assert set(answers) == {401, 429}
    assert answers[:4] == [401] * 4
    assert stranger.status == 429
    assert int(stranger.headers["Retry-After"]) > 0
    assert owner.status == 200, owner.body
    assert owner.json()["device_token"] == device
    me = call(stack, "127.0.0.10", "GET", "/users/me", token=owner.json()["access_token"])
    assert me.status == 200


def test_given_a_client_that_ignores_device_tokens_then_its_logins_work_as_before(
    stack: LocalStack,
) -> None:
    email = unique_email()
    register(stack, "127.0.0.12", email)

    logins = [login(stack, "127.0.0.12", email, PASSWORD) for _ in range(3)]

    assert [answer.status for answer in logins] == [200, 200, 200]
    assert len({answer.json()["device_token"] for answer in logins}) == 3


# ---------------------------------------------------------------- per-source limits
def test_given_one_source_spraying_25_accounts_then_it_is_answered_429_before_the_25th(
    stack: LocalStack,
) -> None:
    emails = [unique_email() for _ in range(25)]
    for index, email in enumerate(emails):  # registered from many addresses, as users do
        assert register(stack, f"127.0.2.{index + 1}", email).status == 201

    answers = [login(stack, "127.0.3.1", email, WRONG) for email in emails]

    statuses = [answer.status for answer in answers]
    assert 429 in statuses[:24], statuses
    first_refusal = statuses.index(429)
    assert set(statuses[:first_refusal]) == {401}
    assert set(statuses[first_refusal:]) == {429}
    assert int(answers[first_refusal].headers["Retry-After"]) > 0
    # The sprayer's limit is its own: the accounts themselves were guessed at once each.
    assert login(stack, "127.0.3.2", emails[-1], PASSWORD).status == 200


# ---------------------------------------------------------------- mail bombing
def test_given_10_registrations_and_email_changes_aimed_at_one_address_then_at_most_the_limit(
    stack: LocalStack,
) -> None:
    victim = unique_email()
    attacker = "127.0.4.1"
    for _ in range(5):  # register the victim's address, delete the account, again
        assert register(stack, attacker, victim, name=PRIZE).status == 201
        session = login(stack, attacker, victim, PASSWORD).json()
        proof = {"current_password": PASSWORD}
        deleted = call(stack, attacker, "DELETE", "/users/me", proof, token=session["access_token"])
        assert deleted.status == 204
    own = unique_email()
    register(stack, attacker, own, name=PRIZE)
    token = login(stack, attacker, own, PASSWORD).json()["access_token"]
    for index in range(5):  # move an account's address to the victim's and away again
        to = victim if index % 2 == 0 else unique_email()
        change = {"email": to, "current_password": PASSWORD}
        changed = call(stack, attacker, "PATCH", "/users/me", change, token=token)
        assert changed.status == 200, changed.body

    received = _mail_to(stack, victim, settle_s=4.0)

    assert 1 <= len(received) <= 3  # MailPerRecipientPerHour
    assert all("evil.example" not in mail["text"] for mail in received)
    assert all("prize" not in mail["text"].lower() for mail in received)


def _mail_to(stack: LocalStack, to: str, settle_s: float) -> list[dict[str, Any]]:
    """Every message sent to ``to`` once the mailer has had time for all of them."""
    waited = stack.run(
        "userflow.cli", "mail", "tail", "--to", to, "--from-start", "--count", "1",
        "--timeout", "20", "--json",
    )  # fmt: skip
    assert waited.returncode == 0, waited.stdout + waited.stderr
    time.sleep(settle_s)
    listed = stack.run("userflow.cli", "mail", "list", "--to", to, "--json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines()]


# ---------------------------------------------------------------- sessions end
def test_given_a_session_with_a_1_minute_absolute_lifetime_then_no_refresh_after_it(
    stack: LocalStack,
) -> None:
    email = unique_email()
    register(stack, "127.0.5.1", email)
    started = time.monotonic()
    pair = login(stack, "127.0.5.1", email, PASSWORD).json()

    refreshes = []
    while time.monotonic() - started < SESSION_LIFETIME_S - 15:  # kept busy: never idle
        answer = call(
            stack, "127.0.5.1", "POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]}
        )
        refreshes.append(answer.status)
        pair = answer.json()
        time.sleep(15)
    time.sleep(max(0.0, SESSION_LIFETIME_S + 1 - (time.monotonic() - started)))
    after = call(
        stack, "127.0.5.1", "POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]}
    )

    assert set(refreshes) == {200}
    assert len(refreshes) >= 2
    assert (after.status, after.json()) == (401, {"message": "Invalid credentials"})


def test_given_a_reused_refresh_token_then_the_familys_access_token_stops_working_at_once(
    stack: LocalStack,
) -> None:
    email = unique_email()
    register(stack, "127.0.5.2", email)
    first = login(stack, "127.0.5.2", email, PASSWORD).json()
    other_session = login(stack, "127.0.5.2", email, PASSWORD).json()
    refresh = {"refresh_token": first["refresh_token"]}
    second = call(stack, "127.0.5.2", "POST", "/auth/refresh", refresh).json()
    assert call(stack, "127.0.5.2", "GET", "/users/me", token=second["access_token"]).status == 200

    reused = call(stack, "127.0.5.3", "POST", "/auth/refresh", refresh)  # the thief

    assert reused.status == 401
    for access in (second["access_token"], first["access_token"]):
        assert call(stack, "127.0.5.2", "GET", "/users/me", token=access).status == 401
    innocent = other_session["access_token"]  # another session of the user lives on
    assert call(stack, "127.0.5.2", "GET", "/users/me", token=innocent).status == 200


def test_given_a_logout_then_that_sessions_access_token_stops_working_at_once(
    stack: LocalStack,
) -> None:
    email = unique_email()
    register(stack, "127.0.5.4", email)
    pair = login(stack, "127.0.5.4", email, PASSWORD).json()
    body = {"refresh_token": pair["refresh_token"]}

    out = call(stack, "127.0.5.4", "POST", "/auth/logout", body, token=pair["access_token"])

    assert out.status == 204
    assert call(stack, "127.0.5.4", "GET", "/users/me", token=pair["access_token"]).status == 401


# ---------------------------------------------------------------- recent authentication
def test_given_an_old_auth_time_and_no_password_when_deleting_yourself_then_403(
    stack: LocalStack,
) -> None:
    email = unique_email()
    register(stack, "127.0.6.1", email)
    pair = login(stack, "127.0.6.1", email, PASSWORD).json()
    time.sleep(REAUTHENTICATION_WINDOW_S + 1.5)
    refreshed = call(
        stack, "127.0.6.1", "POST", "/auth/refresh", {"refresh_token": pair["refresh_token"]}
    ).json()  # a brand-new access token, from the same old login

    refused = call(stack, "127.0.6.1", "DELETE", "/users/me", token=refreshed["access_token"])
    done = call(
        stack,
        "127.0.6.1",
        "DELETE",
        "/users/me",
        {"current_password": PASSWORD},
        token=refreshed["access_token"],
    )

    assert (refused.status, refused.json()) == (403, {"message": "Reauthentication required"})
    assert done.status == 204


# ---------------------------------------------------------------- configuration
def test_given_an_override_the_template_refuses_then_userflow_local_exits_2_naming_it(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "userflow.cli", "local", "--port", "0",
         "--parameter-overrides", "SessionLifetimeSeconds=5"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        env={**env, "USERFLOW_STATE_DIR": str(tmp_path)},
    )  # fmt: skip

    assert done.returncode == 2
    assert "SessionLifetimeSeconds" in done.stderr
    assert "at least 60" in done.stderr
