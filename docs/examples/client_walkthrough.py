"""The README's walk-through through the generated Python client (`make client`).

    PYTHONPATH=build/client .venv/bin/python docs/examples/client_walkthrough.py http://127.0.0.1:3000

Against `userflow local` (the mailed tokens are read with `userflow mail tail`). Prints each step.
"""

import json
import re
import subprocess
import sys
import uuid

from userflow_client import AuthenticatedClient, Client
from userflow_client.api.accounts import create_user, get_current_user, update_user
from userflow_client.api.recovery import forgot_password, reset_password, verify_email
from userflow_client.api.sessions import login, logout, refresh_tokens
from userflow_client.models import (
    ErrorBody,
    ForgotPasswordRequest,
    LoginRequest,
    LoginTokens,
    LogoutRequest,
    RefreshRequest,
    Registration,
    ResetPasswordRequest,
    TokenPair,
    User,
    UserPatch,
    VerifyEmailRequest,
)

base_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
email, password = f"ann+{uuid.uuid4().hex[:8]}@example.com", "correct horse battery staple"
anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)


def step(name: str, status: int, expected: int) -> None:
    print(f"{name}: {status}")
    if status != expected:
        sys.exit(f"{name}: expected {expected}, got {status}")


def mailed_token(count: int) -> str:
    """The token in the link of the count-th message to ``email`` (the local stack keeps them)."""
    command = [sys.executable, "-m", "userflow.cli", "mail", "tail", "--to", email]
    command += ["--from-start", "--count", str(count), "--timeout", "10", "--json"]
    lines = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return re.search(r"token=(\S+)", json.loads(lines.splitlines()[-1])["text"])[1]


def signed_in(password: str) -> tuple[AuthenticatedClient, str]:
    answer = login.sync_detailed(client=anonymous, body=LoginRequest(email, password))
    step("log in", answer.status_code, 200)
    assert isinstance(answer.parsed, LoginTokens)
    client = AuthenticatedClient(base_url=base_url, token=answer.parsed.access_token)
    return client, answer.parsed.refresh_token


registered = create_user.sync_detailed(
    client=anonymous,
    body=Registration(email=email, password=password, name="Ann"),
    idempotency_key=str(uuid.uuid4()),
)
step("register", registered.status_code, 201)

ann, refresh = signed_in(password)
me = get_current_user.sync_detailed(client=ann)
step("read my record", me.status_code, 200)
assert isinstance(me.parsed, User)
etag = me.headers["ETag"]

changed = update_user.sync_detailed(
    "me", client=ann, body=UserPatch(name="Ann Example", locale="en-GB"), if_match=etag
)
step("update with If-Match", changed.status_code, 200)
stale = update_user.sync_detailed("me", client=ann, body=UserPatch(name="X"), if_match=etag)
step("update with a stale If-Match", stale.status_code, 412)
assert isinstance(stale.parsed, ErrorBody)

pair = refresh_tokens.sync_detailed(client=anonymous, body=RefreshRequest(refresh))
step("refresh", pair.status_code, 200)
assert isinstance(pair.parsed, TokenPair)

verified = verify_email.sync_detailed(
    client=anonymous, body=VerifyEmailRequest(token=mailed_token(1))
)
step("verify email", verified.status_code, 204)

asked = forgot_password.sync_detailed(client=anonymous, body=ForgotPasswordRequest(email))
step("forgot password", asked.status_code, 202)
new_password = "a new horse battery staple"  # noqa: S105 (a walk-through's)
reset = reset_password.sync_detailed(
    client=anonymous, body=ResetPasswordRequest(token=mailed_token(2), password=new_password)
)
step("reset password", reset.status_code, 204)

ann, _ = signed_in(new_password)
out = logout.sync_detailed(client=ann, body=LogoutRequest(all_=True))
step("log out everywhere", out.status_code, 204)
gone = get_current_user.sync_detailed(client=ann)
step("read my record, logged out", gone.status_code, 401)
