"""The sample events of events/ (what `sam local invoke -e` takes) made live for a bench stack: a
signed-in user's ids and tokens in place of the placeholders, a second factor's step for
POST /auth/mfa, the signing key's current version for a retried rotation step."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from benchmarks.local_stack import ROOT, BenchStack, BenchUser

SAMPLE_IDS = (
    "5b7f6c1e-0000-4000-8000-000000000001",
    "5b7f6c1e-0000-4000-8000-00000000000a",
    "3f2c9a4e-1b7d-4c1e-9a55-0c3f7d2b8e61",
    "9b1e7c20-5d4a-4f3b-8c2e-6a7d1f0e4b93",
)

ROTATION_SAMPLE_VERSION = "5d0c3f0e-8a41-4d2b-9a55-0b6f2f7c9e11"


def current_version(stack: BenchStack) -> str:
    """The signing key secret's AWSCURRENT version id."""
    versions = stack.stack.client("secretsmanager").describe_secret(
        SecretId=stack.stack.physical_id("SigningKeySecret")
    )["VersionIdsToStages"]
    return next(version for version, stages in versions.items() if "AWSCURRENT" in stages)


def sample_event(logical_id: str, handler_path: str, user: BenchUser, stack: BenchStack) -> Any:
    """The function's sample event with the placeholders filled in for a live user."""
    name = handler_path.split(".")[1].removeprefix("handle_")
    text = (ROOT / "events" / f"{name}.json").read_text()
    for sample_id in SAMPLE_IDS:
        text = text.replace(sample_id, user.id)
    email = f"new-{uuid.uuid4().hex[:12]}@example.com" if name == "create_user" else user.email
    replacements = {
        "paste-an-access-token-from-login": user.access_token,
        "paste-a-refresh-token-from-login": user.refresh_token,
        "<access token>": user.access_token,
        "ann@example.com": email,
        "correct horse battery staple": user.password,
        "7d1e0c9a-sample": uuid.uuid4().hex,
        "userflow-local-SigningKeySecret": stack.stack.physical_id("SigningKeySecret"),
        "1795600000": str(int(time.time())),
        # The session's login (auth_time): just now, as the user's, so that the operations that
        # need a recent one (deleting the account) do their work instead of answering 403.
        "1767225600": str(int(time.time())),
    }
    if name == "rotate_signing_key":
        # A retried step of a rotation already done: it reads the secret's versions and stops,
        # as the rotation function does for a late retry (the sample's version does not exist).
        replacements[ROTATION_SAMPLE_VERSION] = current_version(stack)
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    event = json.loads(text)
    if name == "mfa_login":
        event["body"] = json.dumps(second_step(stack))
    return event


def second_step(stack: BenchStack) -> dict[str, str]:
    """POST /auth/mfa's body for a new user with TOTP on: the token its password login answered
    and one of its recovery codes (a TOTP code would have to wait for the next time step)."""
    import pyotp

    user = stack.new_user()
    status, enrolment = stack.request("POST", "/users/me/mfa/totp", None, user.access_token)
    assert status == 200, enrolment
    code = pyotp.TOTP(enrolment["secret"]).now()
    status, codes = stack.request(
        "POST", "/users/me/mfa/totp/confirm", {"code": code}, user.access_token
    )
    assert status == 200, codes
    credentials = {"email": user.email, "password": user.password}
    status, answer = stack.request("POST", "/auth/login", credentials)
    assert status == 200, answer
    assert answer.get("mfa_required"), answer
    return {"mfa_token": answer["mfa_token"], "recovery_code": codes["recovery_codes"][0]}
