"""The README walk-through over real HTTP on `userflow local`: register, login, an authorized
call, refresh, logout; then the operator's `userflow admin grant` and `userflow keys rotate`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from tests.support.local_stack import LocalStack, verify_email

pytestmark = pytest.mark.e2e


def _userflow(stack: LocalStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    return stack.run("userflow.cli", *arguments, timeout=60)


def test_given_a_new_user_when_walking_through_login_refresh_and_logout_then_each_step_works(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email, password = unique_email(), "correct horse battery staple"
    registered = local_stack.request(
        "POST", "/users", json_body={"email": email, "password": password, "name": "Walk"}
    )
    assert registered.status == 201

    login = local_stack.request(
        "POST", "/auth/login", json_body={"email": email, "password": password}
    )
    assert login.status == 200
    tokens = login.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    me = local_stack.request("GET", "/users/me", headers=bearer)
    assert (me.status, me.json()["email"]) == (200, email)
    assert local_stack.request("GET", "/users/me").status == 401
    forged = {"Authorization": f"Bearer {tokens['access_token'][:-4]}AAAA"}
    assert local_stack.request("GET", "/users/me", headers=forged).status == 403

    refreshed = local_stack.request(
        "POST", "/auth/refresh", json_body={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status == 200
    new = refreshed.json()
    reused = local_stack.request(
        "POST", "/auth/refresh", json_body={"refresh_token": tokens["refresh_token"]}
    )
    assert reused.status == 401
    # Reuse means theft: the whole session dies, its newest access token included.
    stolen = {"Authorization": f"Bearer {new['access_token']}"}
    assert local_stack.request("GET", "/users/me", headers=stolen).status == 401
    new = local_stack.request(
        "POST", "/auth/login", json_body={"email": email, "password": password}
    ).json()

    logout = local_stack.request(
        "POST",
        "/auth/logout",
        json_body={"refresh_token": new["refresh_token"]},
        headers={"Authorization": f"Bearer {new['access_token']}"},
    )
    assert logout.status == 204
    after = local_stack.request(
        "POST", "/auth/refresh", json_body={"refresh_token": new["refresh_token"]}
    )
    assert after.status == 401

    jwks = local_stack.request("GET", "/.well-known/jwks.json")
    assert jwks.status == 200
    assert all("d" not in key for key in jwks.json()["keys"])


def test_given_the_local_stack_when_an_operator_grants_admin_and_rotates_keys_then_both_apply(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    email, password = unique_email(), "correct horse battery staple"
    local_stack.request(
        "POST", "/users", json_body={"email": email, "password": password, "name": "Op"}
    )
    credentials = {"email": email, "password": password}
    old = local_stack.request("POST", "/auth/login", json_body=credentials).json()["access_token"]
    verify_email(local_stack, email)  # grants go to verified addresses only

    granted = _userflow(local_stack, "admin", "grant", email)
    rotated = _userflow(local_stack, "keys", "rotate")
    new = local_stack.request("POST", "/auth/login", json_body=credentials).json()["access_token"]

    assert granted.returncode == 0, granted.stdout + granted.stderr
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert (
        local_stack.request("GET", "/users", headers={"Authorization": f"Bearer {new}"}).status
        == 200
    )
    assert (
        local_stack.request("GET", "/users/me", headers={"Authorization": f"Bearer {old}"}).status
        == 200
    )
