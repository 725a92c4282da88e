"""Passkeys over real HTTP on `userflow local`, with a software authenticator playing the browser
on the web app's page (http://localhost:3000, the local stack's default origin)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import jwt
import pyotp
import pytest

from tests.support.local_stack import REPO, HttpResult, LocalStack
from tests.support.subscriber import Subscriber
from tests.support.webauthn_authenticator import SoftAuthenticator

pytestmark = pytest.mark.e2e

ORIGIN = "http://localhost:3000"
PASSWORD = "correct horse battery staple"


class Person:
    """A user of the local stack, logged in with the password just now."""

    def __init__(self, stack: LocalStack, email: str) -> None:
        self.stack = stack
        self.email = email
        registered = stack.request(
            "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "E2e"}
        )
        assert registered.status == 201, registered.body
        self.tokens = self.login().json()

    def login(self) -> HttpResult:
        return self.stack.request(
            "POST", "/auth/login", json_body={"email": self.email, "password": PASSWORD}
        )

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> HttpResult:
        bearer = {"Authorization": f"Bearer {token or self.tokens['access_token']}"}
        return self.stack.request(method, path, json_body=body, headers=bearer)

    def register(self, device: SoftAuthenticator) -> dict[str, Any]:
        asked = self.call("POST", "/users/me/passkeys/options")
        assert asked.status == 200, asked.body
        options = asked.json()
        credential = device.create(options["options"])
        created = self.call(
            "POST",
            "/users/me/passkeys",
            {"challenge_id": options["challenge_id"], "credential": credential},
        )
        assert created.status == 201, created.body
        passkey: dict[str, Any] = created.json()
        return passkey


def options_for_sign_in(stack: LocalStack, email: str | None = None) -> dict[str, Any]:
    asked = stack.request(
        "POST", "/auth/passkey/options", json_body={"email": email} if email else None
    )
    assert asked.status == 200, asked.body
    body: dict[str, Any] = asked.json()
    return body


def answer(stack: LocalStack, options: dict[str, Any], credential: dict[str, Any]) -> HttpResult:
    return stack.request(
        "POST",
        "/auth/passkey",
        json_body={"challenge_id": options["challenge_id"], "credential": credential},
    )


def sign_in(stack: LocalStack, device: SoftAuthenticator, **get: Any) -> HttpResult:
    options = options_for_sign_in(stack)
    return answer(stack, options, device.get(options["options"], **get))


@pytest.fixture
def person(local_stack: LocalStack, unique_email: Callable[[], str]) -> Person:
    return Person(local_stack, unique_email())


@pytest.fixture
def device() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


def test_given_a_registered_passkey_when_signing_in_without_a_password_then_its_tokens_work(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    passkey = person.register(device)

    signed_in = sign_in(local_stack, device)

    assert signed_in.status == 200, signed_in.body
    tokens = signed_in.json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["hwk", "user"]
    me = person.call("GET", "/users/me", token=tokens["access_token"])
    assert (me.status, me.json()["email"], me.json()["passkey_count"]) == (200, person.email, 1)
    [listed] = person.call("GET", "/users/me/passkeys").json()["items"]
    assert listed["id"] == passkey["id"]
    assert listed["last_used_at"] is not None


def test_given_a_sign_in_challenge_when_its_answer_is_replayed_then_401(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    person.register(device)
    options = options_for_sign_in(local_stack)
    credential = device.get(options["options"])

    first, replayed = (answer(local_stack, options, credential) for _ in range(2))

    assert (first.status, replayed.status) == (200, 401)
    assert replayed.json() == {"message": "Invalid credentials"}


def test_given_an_assertion_made_on_another_origin_when_presented_then_401(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    person.register(device)

    phished = sign_in(local_stack, device, origin="https://localhost.evil.example")

    assert phished.status == 401
    assert sign_in(local_stack, device).status == 200


def _mail_subjects(stack: LocalStack, email: str) -> list[str]:
    listed = stack.run("userflow.cli", "mail", "list", "--to", email, "--json", timeout=60)
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line)["subject"] for line in listed.stdout.splitlines() if line.strip()]


def test_given_a_cloned_authenticator_when_its_counter_goes_back_then_401_signed_out_and_mailed(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    person.register(device)
    user_id = person.call("GET", "/users/me").json()["id"]
    subscriber = Subscriber(local_stack)
    clone = device.clone()
    owner = sign_in(local_stack, device).json()
    assert sign_in(local_stack, device).status == 200

    cloned = sign_in(local_stack, clone)

    assert cloned.status == 401
    subscriber.wait_for(lambda _: "SessionsRevoked" in subscriber.kinds(user_id))
    [revoked] = [
        e["detail"]
        for e in subscriber.received
        if e["detail-type"] == "SessionsRevoked" and e["detail"]["user"]["id"] == user_id
    ]
    assert (revoked["reason"], revoked["actor"]) == ("passkey_cloned", {"type": "system"})
    assert person.call("GET", "/users/me", token=owner["access_token"]).status == 401
    refreshed = local_stack.request(
        "POST", "/auth/refresh", json_body={"refresh_token": owner["refresh_token"]}
    )
    assert refreshed.status == 401
    assert sign_in(local_stack, device).status == 401
    person.tokens = person.login().json()
    [passkey] = person.call("GET", "/users/me/passkeys").json()["items"]
    assert passkey["blocked_at"] is not None
    assert "One of your passkeys was blocked" in _wait_for_subject(local_stack, person.email)


def _wait_for_subject(stack: LocalStack, email: str) -> list[str]:
    """The mailer runs from the table stream: give it a moment."""
    import time

    deadline = time.monotonic() + 20
    while True:
        subjects = _mail_subjects(stack, email)
        if "One of your passkeys was blocked" in subjects or time.monotonic() > deadline:
            return subjects
        time.sleep(0.5)


def test_given_a_removed_passkey_when_signing_in_with_it_then_401(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    passkey = person.register(device)

    assert person.call("DELETE", f"/users/me/passkeys/{passkey['id']}").status == 204

    assert sign_in(local_stack, device).status == 401


def test_given_a_passwordless_user_when_removing_the_last_passkey_then_409(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    assert person.call("DELETE", "/users/me/password").status == 409  # no passkey yet
    passkey = person.register(device)
    assert person.call("DELETE", "/users/me/password").status == 204
    assert person.login().status == 401

    refused = person.call("DELETE", f"/users/me/passkeys/{passkey['id']}")

    assert refused.status == 409
    assert refused.json() == {
        "message": "This is your last way to sign in; add a passkey or set a password first"
    }
    assert sign_in(local_stack, device).status == 200


def test_given_totp_and_a_passkey_when_a_password_login_asks_then_the_passkey_is_the_second_factor(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    person.register(device)
    started = person.call("POST", "/users/me/mfa/totp")
    assert started.status == 200, started.body
    code = pyotp.TOTP(started.json()["secret"]).now()  # one step back is accepted
    assert person.call("POST", "/users/me/mfa/totp/confirm", {"code": code}).status == 200

    first = person.login().json()
    options = options_for_sign_in(local_stack, person.email)
    proof = {"challenge_id": options["challenge_id"], "credential": device.get(options["options"])}
    done = local_stack.request(
        "POST", "/auth/mfa", json_body={"mfa_token": first["mfa_token"], **proof}
    )
    replayed = local_stack.request(
        "POST", "/auth/mfa", json_body={"mfa_token": person.login().json()["mfa_token"], **proof}
    )

    assert (first["mfa_required"], first["methods"]) == (True, ["totp", "webauthn"])
    assert "access_token" not in first
    assert done.status == 200, done.body
    claims = jwt.decode(done.json()["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "hwk"]
    assert person.call("GET", "/users/me", token=done.json()["access_token"]).status == 200
    assert replayed.status == 401


# ---------------------------------------------------------------- hostile input
HUGE = "A" * 200_000
NOT_BASE64URL = "not+base64/url=="
HOSTILE_VALUES = [HUGE, NOT_BASE64URL, "A", "\ud800", "é" * 50, 12, None, [], {"$ne": ""}]
HOSTILE_IDS = [
    "huge",
    "not-base64url",
    "one-char",
    "lone-surrogate",
    "non-ascii",
    "number",
    "null",
    "list",
    "object",
]


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    *parents, last = path.split(".")
    target = copy
    for parent in parents:
        target = target[parent]
    target[last] = value
    return copy


ASSERTION_FIELDS = [
    "challenge_id",
    "credential.id",
    "credential.rawId",
    "credential.type",
    "credential.response.clientDataJSON",
    "credential.response.authenticatorData",
    "credential.response.signature",
    "credential.response.userHandle",
]
ATTESTATION_FIELDS = [
    "challenge_id",
    "credential.id",
    "credential.rawId",
    "credential.type",
    "credential.response.clientDataJSON",
    "credential.response.attestationObject",
    "credential.response.transports",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_given_hostile_values_in_every_sign_in_field_when_posted_then_4xx_never_5xx(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator, value: Any
) -> None:
    person.register(device)
    options = options_for_sign_in(local_stack)
    genuine = {
        "challenge_id": options["challenge_id"],
        "credential": device.get(options["options"]),
    }

    statuses = {
        field: _post_raw(local_stack, "/auth/passkey", _set(genuine, field, value)).status
        for field in ASSERTION_FIELDS
        if not (field.endswith("userHandle") and value is None)  # optional: null is no handle
    }

    assert all(400 <= status < 500 for status in statuses.values()), statuses
    # None of them signed in, nor spent the challenge: the genuine answer still does.
    assert _post_raw(local_stack, "/auth/passkey", genuine).status == 200


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_given_hostile_values_in_every_registration_field_when_posted_then_4xx_never_5xx(
    local_stack: LocalStack, person: Person, value: Any
) -> None:
    bearer = {"Authorization": f"Bearer {person.tokens['access_token']}"}
    options = person.call("POST", "/users/me/passkeys/options").json()
    credential = SoftAuthenticator(origin=ORIGIN).create(options["options"])
    genuine = {"challenge_id": options["challenge_id"], "credential": credential}

    statuses = {
        field: _post_raw(local_stack, "/users/me/passkeys", _set(genuine, field, value), bearer)
        for field in ATTESTATION_FIELDS
        if not (field.endswith("transports") and value == [])  # none known: valid
    }
    asked = _post_raw(local_stack, "/auth/passkey/options", {"email": value})

    assert all(400 <= sent.status < 500 for sent in statuses.values()), statuses
    assert asked.status in (200, 422)  # any text is an address to look up (decoys if unknown)
    assert person.call("GET", "/users/me").json()["passkey_count"] == 0
    registered = _post_raw(local_stack, "/users/me/passkeys", genuine, bearer)
    assert registered.status == 201  # the challenge was not spent by any of them


HOSTILE_NAMES = [
    "x" * 65,
    "A" * 200_000,
    "",
    "   ",
    "bell\u0007",
    "rtl\u202eoverride",
    "\ud800",
    12,
    [],
]


def test_given_hostile_names_when_registering_or_renaming_then_422(
    local_stack: LocalStack, person: Person, device: SoftAuthenticator
) -> None:
    passkey = person.register(device)
    bearer = {"Authorization": f"Bearer {person.tokens['access_token']}"}
    options = person.call("POST", "/users/me/passkeys/options").json()
    credential = SoftAuthenticator(origin=ORIGIN).create(options["options"])

    registering = [
        _post_raw(
            local_stack,
            "/users/me/passkeys",
            {"challenge_id": options["challenge_id"], "credential": credential, "name": name},
            bearer,
        ).status
        for name in HOSTILE_NAMES
    ]
    renaming = [
        person.call("PATCH", f"/users/me/passkeys/{passkey['id']}", {"name": name}).status
        for name in HOSTILE_NAMES
    ]

    assert registering == renaming == [422] * len(HOSTILE_NAMES)
    assert person.call("GET", "/users/me/passkeys").json()["items"] == [passkey]


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b"[null]",
        b'[{"email": "a@example.com"}]',
        b"null",
        b'"credential"',
        b"{" * 10_000 + b"}" * 10_000,
        json.dumps({"x": "y" * 10**6}).encode(),
    ],
    ids=[
        "truncated",
        "array",
        "array-of-null",
        "array-of-object",
        "null",
        "string",
        "deeply-nested",
        "huge-unknown-member",
    ],
)
@pytest.mark.parametrize("path", ["/auth/passkey", "/auth/passkey/options"])
def test_given_a_malformed_body_when_posted_to_a_sign_in_route_then_4xx(
    local_stack: LocalStack, path: str, body: bytes
) -> None:
    sent = local_stack.request(
        "POST", path, body=body, headers={"Content-Type": "application/json"}
    )

    assert 400 <= sent.status < 500, sent.body
    assert set(json.loads(sent.body)) <= {"message", "details"}


def _post_raw(
    stack: LocalStack, path: str, body: Any, headers: dict[str, str] | None = None
) -> HttpResult:
    """JSON as a hostile client writes it: lone surrogates escaped, never refused locally."""
    text = json.dumps(body, ensure_ascii=True)
    return stack.request(
        "POST",
        path,
        body=text.encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


# ---------------------------------------------------------------- README
def test_given_the_readme_passkey_walkthrough_when_run_then_it_signs_in_and_refuses_a_replay(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    readme = (REPO / "docs" / "api" / "passkeys.md").read_text()
    script = next(
        block
        for block in re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
        if "SoftAuthenticator" in block
    )
    script = script.replace('"http://127.0.0.1:3000"', repr(local_stack.api_url), 1)
    script = script.replace("pat@example.com", unique_email(), 1)

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=local_stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "registered Laptop" in done.stdout
    assert "signed in 200 ['hwk', 'user']" in done.stdout
    assert "replayed 401 {'message': 'Invalid credentials'}" in done.stdout
