"""Browsers as callers, over real HTTP: CORS as API Gateway applies the template's
CorsConfiguration (AllowedOrigins), and responses with users' data are never cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.local_stack import LocalStack, start_local_stack

pytestmark = pytest.mark.e2e

APP = "https://app.example.com"
PASSWORD = "a browser user passphrase"
PREFLIGHT = {"Origin": APP, "Access-Control-Request-Method": "PATCH"}


def _login(stack: LocalStack, email: str) -> str:
    body = {"email": email, "password": PASSWORD, "name": "Browser"}
    assert stack.request("POST", "/users", json_body=body).status == 201
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    token: str = login.json()["access_token"]
    return token


def test_given_allowed_origins_when_a_browser_calls_then_preflight_and_headers_as_api_gateway(
    tmp_path: Path, unique_email: Callable[[], str]
) -> None:
    with start_local_stack(tmp_path, "--allowed-origins", APP) as stack:
        token = _login(stack, unique_email())

        preflight = stack.request("OPTIONS", "/users/me", headers=PREFLIGHT)
        foreign = stack.request(
            "OPTIONS", "/users/me", headers={**PREFLIGHT, "Origin": "https://x.example"}
        )
        me = stack.request(
            "GET", "/users/me", headers={"Origin": APP, "Authorization": f"Bearer {token}"}
        )

    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == APP
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert foreign.status == 204
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert me.status == 200
    assert me.headers["Access-Control-Allow-Origin"] == APP
    assert me.headers["Access-Control-Expose-Headers"] == "ETag,Location,apigw-requestid"


def test_given_no_allowed_origins_when_a_browser_preflights_then_no_cors(
    local_stack: LocalStack,
) -> None:
    preflight = local_stack.request("OPTIONS", "/users/me", headers=PREFLIGHT)

    assert preflight.status == 404
    assert not any(name.lower().startswith("access-control-") for name in preflight.headers)


def test_given_responses_with_user_data_when_received_then_never_cached(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email = unique_email()
    body = {"email": email, "password": PASSWORD, "name": "Browser"}
    created = local_stack.request("POST", "/users", json_body=body)
    token = local_stack.request(
        "POST", "/auth/login", json_body={"email": email, "password": PASSWORD}
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    me = local_stack.request("GET", "/users/me", headers=bearer)
    patched = local_stack.request(
        "PATCH", "/users/me", json_body={"name": "Renamed"}, headers=bearer
    )

    assert [r.status for r in (created, me, patched)] == [201, 200, 200], patched.body
    for response in (created, me, patched):
        assert response.headers["Cache-Control"] == "no-store"
    assert local_stack.request("GET", "/.well-known/jwks.json").headers["Cache-Control"] == (
        "public, max-age=300"
    )
