"""The README's walk-through as Postman steps, in order and in folders: a folder ends where the
next step needs a token that only the mail carries (`userflow mail list` shows it; Newman's test
passes it in, tests/e2e/docs/test_postman_newman.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    status: int
    description: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    bearer: bool = False
    capture: dict[str, str] = field(default_factory=dict)
    """Environment variable -> JavaScript expression over ``body`` (the JSON answer) and ``pm``."""
    prerequest: tuple[str, ...] = ()

    def tests(self) -> list[str]:
        lines = [
            f'pm.test("{self.method} {self.path} answers {self.status}", function () {{',
            f"    pm.response.to.have.status({self.status});",
            "});",
        ]
        if self.capture:
            lines.append("const body = pm.response.text() ? pm.response.json() : {};")
            lines += [f'pm.environment.set("{k}", {v});' for k, v in self.capture.items()]
        return lines


FRESH_EMAIL = (
    'if (!pm.environment.get("email")) {',
    '    pm.environment.set("email", "ann+" + Date.now() + "@example.com");',
    "}",
)
TOKENS = {"access_token": "body.access_token", "refresh_token": "body.refresh_token"}
LOGIN = {"email": "{{email}}", "password": "{{password}}"}

WALKTHROUGH: dict[str, list[Step]] = {
    "1 Register and sign in": [
        Step(
            "Register",
            "POST",
            "/users",
            201,
            "Creates the account ({{email}}: a fresh address per run unless you set one).",
            body={"email": "{{email}}", "password": "{{password}}", "name": "Ann"},
            headers={"Idempotency-Key": "{{$guid}}"},
            capture={"user_id": "body.id"},
            prerequest=FRESH_EMAIL,
        ),
        Step("Log in", "POST", "/auth/login", 200, "A token pair.", body=LOGIN, capture=TOKENS),
        Step(
            "Read my record",
            "GET",
            "/users/me",
            200,
            "Your record; its ETag is its version.",
            bearer=True,
            capture={"etag": 'pm.response.headers.get("ETag")'},
        ),
        Step(
            "Update with If-Match",
            "PATCH",
            "/users/me",
            200,
            "Optimistic concurrency: If-Match names the version you read.",
            body={"name": "Ann Example", "locale": "en-GB"},
            headers={"If-Match": "{{etag}}"},
            bearer=True,
        ),
        Step(
            "Update with a stale If-Match",
            "PATCH",
            "/users/me",
            412,
            "The same If-Match again: the record has moved on, so 412 Precondition Failed.",
            body={"name": "Someone Else"},
            headers={"If-Match": "{{etag}}"},
            bearer=True,
        ),
        Step(
            "Refresh",
            "POST",
            "/auth/refresh",
            200,
            "Rotates the pair: the old refresh token is dead.",
            body={"refresh_token": "{{refresh_token}}"},
            capture=TOKENS,
        ),
    ],
    "2 Verify email": [
        Step(
            "Verify email",
            "POST",
            "/auth/verify-email",
            204,
            "Paste the token of the link mailed at registration into verification_token "
            "(`userflow mail list --to {{email}}`).",
            body={"token": "{{verification_token}}"},
        ),
    ],
    "3 Forgot password": [
        Step(
            "Forgot password",
            "POST",
            "/auth/forgot-password",
            202,
            "202 for any address; a reset link is mailed to known ones.",
            body={"email": "{{email}}"},
        ),
    ],
    "4 Reset password": [
        Step(
            "Reset password",
            "POST",
            "/auth/reset-password",
            204,
            "Paste the reset link's token into reset_token. Every session ends.",
            body={"token": "{{reset_token}}", "password": "{{new_password}}"},
        ),
        Step(
            "Log in with the new password",
            "POST",
            "/auth/login",
            200,
            "A new token pair.",
            body={"email": "{{email}}", "password": "{{new_password}}"},
            capture=TOKENS,
        ),
    ],
    "5 Log out": [
        Step(
            "Log out everywhere",
            "POST",
            "/auth/logout",
            204,
            "Ends every session of yours.",
            body={"all": True},
            bearer=True,
        ),
        Step(
            "Read my record, logged out",
            "GET",
            "/users/me",
            401,
            "The access token died with its session.",
            bearer=True,
        ),
    ],
}
